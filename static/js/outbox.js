/* 关爱通 offline outbox: see the module comment once written. */

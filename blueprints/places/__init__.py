"""The town's places: villages, schools (and the villages each serves), departments — the
reference data every other area points at — and how far each reach goes over them."""
from blueprints.core.areas import Area

PLACES = frozenset({"villages:read", "schools:read"})

area = Area(
    name="places",
    model_modules=("models",),
    grants={role: PLACES for role in ("admin", "civil_affairs", "supervisor", "director", "school")},
    setup="access:setup",
)

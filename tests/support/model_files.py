"""Synthetic model files shared by the model tests, generated once per session into a temp dir."""
from __future__ import annotations

from pathlib import Path

from tools.make_synthetic_llama import make_synthetic_llama

ENGLISH = (
    "The history of the city begins in the Roman era, when a small settlement grew up on the banks of the "
    "river. Over the centuries it became an important centre of trade, linking the farms of the surrounding "
    "countryside with merchants from distant ports. In the Middle Ages the town built its first stone walls, a "
    "cathedral and a market square that still forms the heart of the old quarter today. The arrival of the "
    "railway in the nineteenth century transformed the local economy: factories sprang up along the tracks, and "
    "thousands of workers moved in from the villages to find jobs. Many of the brick houses they lived in can "
    "still be seen in the eastern districts. During the twentieth century the city suffered heavy damage in two "
    "wars, but it was rebuilt with care, and several historic buildings were restored to their original "
    "appearance. Today it is known for its university, its museums and its lively cultural life, attracting "
    "visitors from all over the world who come to walk its narrow streets, taste its food and enjoy the "
    "festivals that fill the calendar from spring to autumn. Scientists at the university study everything "
    "from the chemistry of the soil to the movement of the stars, and their discoveries are shared in public "
    "lectures every Thursday evening in the great hall beside the library."
)


def synthetic(directory: Path, name: str, **kwargs) -> Path:
    path = directory / f"{name}.gguf"
    if not path.exists():
        make_synthetic_llama(path, **kwargs)
    return path

"""Copy a few browser-test screenshots, shrunk, into docs/images for the README.

    python tests/browser/readme_images.py build/screenshots docs/images
(`make screenshots` runs the browser tests first, then this.)
"""
import sys
from pathlib import Path

from PIL import Image

CHOSEN = {"01_perceptron.png": "perceptron.png", "04_optimizers.png": "optimizers.png",
          "05_hyperparameters.png": "hyperparameters.png"}
WIDTH = 720
LECTURE_WIDTH = 640     # a 1280x720 slide at half size


def main(source: str, target: str) -> None:
    src, dst = Path(source), Path(target)
    dst.mkdir(parents=True, exist_ok=True)
    for name, out in CHOSEN.items():
        if not (src / name).exists():
            print(f"{src / name} is missing (run all the browser tests: make screenshots): kept {dst / out}")
            continue
        image = Image.open(src / name).convert("RGB")
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
        image = image.quantize(colors=128)
        image.save(dst / out, optimize=True)
        print(f"{dst / out}: {(dst / out).stat().st_size // 1024} KB")
    # one slide per lesson's deck, presenting live (tests/browser/test_lectures.py): its dashboard
    for shot in sorted(src.glob("lecture_*.png")):
        image = Image.open(shot).convert("RGB")
        image = image.resize((LECTURE_WIDTH, round(image.height * LECTURE_WIDTH / image.width)), Image.LANCZOS)
        image.quantize(colors=96).save(dst / shot.name, optimize=True)
        print(f"{dst / shot.name}: {(dst / shot.name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(*sys.argv[1:3])

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


def main(source: str, target: str) -> None:
    src, dst = Path(source), Path(target)
    dst.mkdir(parents=True, exist_ok=True)
    for name, out in CHOSEN.items():
        if not (src / name).exists():
            raise SystemExit(f"{src / name} is missing: run the browser tests first (make screenshots).")
        image = Image.open(src / name).convert("RGB")
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
        image = image.quantize(colors=128)
        image.save(dst / out, optimize=True)
        print(f"{dst / out}: {(dst / out).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(*sys.argv[1:3])

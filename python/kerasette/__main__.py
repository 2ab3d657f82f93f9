"""`python -m kerasette info`: version, CPU kernels, threads, CUDA."""

import sys

import kerasette
from kerasette import config


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "info":
        print("usage: python -m kerasette info")
        return 2
    print(f"kerasette {kerasette.__version__}")
    print(f"cpu isa: {config.cpu_isa()} (supported: {', '.join(config.supported_cpu_isas())})")
    print(f"threads: {config.num_threads()}")
    print(f"cuda built: {'yes' if config.cuda_built() else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

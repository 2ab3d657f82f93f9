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
    print(f"devices: {', '.join(config.list_devices())}")
    device = config.get_device()
    info = config.device_info(device)
    line = f"device: {device} ({info['name']}"
    if "total_bytes" in info:
        mib = 1024 * 1024
        line += f", {info['total_bytes'] // mib} MiB"
        if info.get("free_bytes"):
            line += f", {info['free_bytes'] // mib} MiB free"
        line += ", compute capability {}.{}".format(*info["compute_capability"])
    print(line + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())

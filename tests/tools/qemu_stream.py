#!/usr/bin/env python3
"""Make a real QEMU migration stream: build the multiboot guest of test-data/qemu/guest.S, run it
under TCG with two vCPUs, wait until both halt, then over QMP `stop`, `migrate` to a file and
save `info registers -a` (QEMU's own view of the registers, the tests' expected values).

usage: qemu_stream.py OUTDIR [--mem MB] [--smp N]
writes OUTDIR/guest.elf, OUTDIR/vm.mig, OUTDIR/registers.txt. Exit 77 when a tool is missing."""
import json, os, shutil, socket, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(HERE, "..", "..", "test-data", "qemu", "guest.S")


class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        for _ in range(200):
            try:
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("QMP socket did not appear")
        self.f = self.s.makefile("rw")
        self.read()                                   # greeting
        self.cmd("qmp_capabilities")

    def read(self):
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("QMP closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        r = self.read()
        if "error" in r:
            raise RuntimeError(f"{name}: {r['error']}")
        return r["return"]

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    out = os.path.abspath(args[0])
    mem = args[args.index("--mem") + 1] if "--mem" in args else "64"
    smp = args[args.index("--smp") + 1] if "--smp" in args else "2"
    for tool in ("qemu-system-x86_64", "as", "ld"):
        if not shutil.which(tool):
            print(f"{tool} not installed", file=sys.stderr)
            return 77
    os.makedirs(out, exist_ok=True)
    obj, elf = os.path.join(out, "guest.o"), os.path.join(out, "guest.elf")
    subprocess.run(["as", "--32", "-o", obj, GUEST], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-Ttext=0x100000", "-e", "_start", "-o", elf, obj], check=True)
    sock = os.path.join(out, "qmp.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    qemu = subprocess.Popen(["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", smp, "-m", mem,
                             "-kernel", elf, "-display", "none", "-vga", "none", "-serial", "none",
                             "-monitor", "none", "-nodefaults", "-no-reboot", "-qmp", f"unix:{sock},server=on,wait=off"])
    try:
        q = Qmp(sock)
        # Both CPUs halted in the guest's final loop: every CPU shows HLT=1 and the marker in RAX.
        deadline = time.time() + 30
        while True:
            regs = q.hmp("info registers -a")
            if regs.count("HLT=1") == int(smp) and "RAX=1111111111111111" in regs:
                break
            if time.time() > deadline:
                raise RuntimeError("guest did not halt:\n" + regs)
            time.sleep(0.2)
        q.cmd("stop")
        regs = q.hmp("info registers -a")
        mig = os.path.join(out, "vm.mig")
        q.cmd("migrate", uri=f"exec:cat > '{mig}'")
        while q.cmd("query-migrate").get("status") not in ("completed", "failed"):
            time.sleep(0.05)
        status = q.cmd("query-migrate")
        if status.get("status") != "completed":
            raise RuntimeError(f"migration: {status}")
        with open(os.path.join(out, "registers.txt"), "w") as f:
            f.write(regs)
        q.cmd("quit")
        qemu.wait(timeout=10)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        if os.path.exists(sock):
            os.unlink(sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Small QEMU streams for test-data/bad and the fuzz corpus, cut from the real 2-vCPU TCG stream
(test-data/qemu/tcg-2cpu.mig): its two `cpu` sections and their description entries kept byte
for byte, everything else left out; then one defect each.
usage: make_qemu_samples.py  (writes test-data/qemu/cpus-only.mig, test-data/bad/qemu-*.mig,
fuzz/corpus/qemu/*)"""
import json, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
real = open(os.path.join(ROOT, "test-data/qemu/tcg-2cpu.mig"), "rb").read()

# The description: QEMU_VM_EOF, QEMU_VM_VMDESCRIPTION, be32 length, JSON to the end.
p = next(p for p in range(len(real) - 6, 0, -1)
         if real[p] == 6 and real[p - 1] == 0 and struct.unpack(">I", real[p + 1:p + 5])[0] == len(real) - p - 5)
desc = json.loads(real[p + 5:])
cpus = [d for d in desc["devices"] if d["name"] == "cpu"]


def header():
    machine = b"pc-i440fx-7.2"
    return b"QEVM" + struct.pack(">I", 3) + b"\x07" + struct.pack(">I", len(machine)) + machine


def size(v):
    n = sum(f["size"] * f.get("array_len", 1) for f in v.get("fields", []))
    return n + sum(6 + len(s["vmsd_name"]) + size(s) for s in v.get("subsections", []))


def cpu_sections():
    """Each cpu section of the real stream, header to footer."""
    out, at = [], 0
    for d in cpus:
        name = b"cpu"
        hdr = b"\x04" + b"%s" + bytes([len(name)]) + name + struct.pack(">II", d["instance_id"], d["version"])
        # find "\x04 <id> \x03cpu <instance> <version>" in the real stream
        pat = bytes([len(name)]) + name + struct.pack(">II", d["instance_id"], d["version"])
        at = real.index(pat, at)
        start = at - 5
        end = at + len(pat) + size(d) + 5
        assert real[end - 5] == 0x7e
        out.append(real[start:end])
        at = end
    return out


def ram_start(section_id, blocks):
    b = b"\x01" + struct.pack(">I", section_id) + b"\x03ram" + struct.pack(">II", 0, 4)
    b += struct.pack(">Q", sum(n for _, n in blocks) | 0x04)
    for name, n in blocks:
        b += bytes([len(name)]) + name + struct.pack(">Q", n)
    return b + struct.pack(">Q", 0x10) + b"\x7e" + struct.pack(">I", section_id)


def stream(body, devices, desc_text=None):
    text = desc_text if desc_text is not None else json.dumps({"page_size": 4096, "devices": devices}).encode()
    return header() + body + b"\x00\x06" + struct.pack(">I", len(text)) + text


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(data)


secs = cpu_sections()
good = stream(ram_start(2, [(b"pc.ram", 1 << 24)]) + b"".join(secs), cpus)
write("test-data/qemu/cpus-only.mig", good)
write("fuzz/corpus/qemu/cpus-only.mig", good)

write("test-data/bad/qemu-wrong-magic.mig", b"QEVX" + good[4:64])
write("test-data/bad/qemu-version-2.mig", b"QEVM" + struct.pack(">I", 2) + good[8:64])
write("test-data/bad/qemu-truncated.mig", good[:len(good) // 2])
# The RAM block list announces 16 MiB, its one block claims 32 MiB.
lying = header() + b"\x01" + struct.pack(">I", 2) + b"\x03ram" + struct.pack(">II", 0, 4) + \
    struct.pack(">Q", (1 << 24) | 4) + b"\x06pc.ram" + struct.pack(">Q", 1 << 25)
write("test-data/bad/qemu-ram-block-lying.mig", stream(lying[len(header()):], []))
# A page record whose 4096 bytes are not there.
page = b"\x02" + struct.pack(">I", 2) + struct.pack(">Q", 0x1000 | 0x08) + b"\x06pc.ram" + b"\xaa" * 100
write("test-data/bad/qemu-page-past-end.mig", stream(ram_start(2, [(b"pc.ram", 1 << 24)]) + page, cpus))
# The description says env.regs is 17 registers: the cpu data ends before the description says.
d = json.loads(json.dumps(cpus))
d[0]["fields"][0]["array_len"] = 17
write("test-data/bad/qemu-desc-mismatch.mig", stream(b"".join(secs), d))
# A field whose array length times size is far beyond the file.
d = json.loads(json.dumps(cpus))
d[1]["fields"][0]["array_len"] = 1 << 24
d[1]["fields"][0]["size"] = 1 << 30
write("test-data/bad/qemu-array-huge.mig", stream(b"".join(secs), d))
# A subsection the description does not expect.
d = json.loads(json.dumps(cpus))
d[0]["subsections"][0]["vmsd_name"] = "cpu/not_there"
write("test-data/bad/qemu-subsection-mismatch.mig", stream(b"".join(secs), d))
write("test-data/bad/qemu-desc-not-json.mig", stream(b"".join(secs), None, b"{\"devices\": [1, 2"))
write("test-data/bad/qemu-no-cpu.mig", stream(ram_start(2, [(b"pc.ram", 1 << 24)]), []))
for f in os.listdir(os.path.join(ROOT, "test-data/bad")):
    if f.startswith("qemu-"):
        write("fuzz/corpus/qemu/" + f, open(os.path.join(ROOT, "test-data/bad", f), "rb").read())

#!/usr/bin/env python3
"""Small QEMU streams for test-data/bad and the fuzz corpus, cut from the real 2-vCPU TCG stream
(test-data/qemu/tcg-2cpu.mig): its two `cpu` sections and their description entries kept byte
for byte, everything else left out; then one defect each.
usage: make_qemu_samples.py  (writes test-data/qemu/cpus-only.mig, test-data/qemu/nested-vmx.mig
(cpu/nested_state made by hand: it needs KVM), test-data/bad/qemu-*.mig, fuzz/corpus/qemu/*)"""
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


# cpu/nested_state needs KVM (QEMU saves it only from KVM_GET_NESTED_STATE; under TCG it is never
# written) and KVM cannot run here: this subsection is built by hand, as QEMU 7.2's
# target/i386/machine.c lays it out, from a struct kvm_nested_state of test-data/nested.
def field(name, typ, size, n=1):
    f = {"name": name}
    if n > 1:
        f["array_len"] = n
    f.update({"type": typ, "size": size})
    return f


def subsection(name, fields, data, subs=()):
    """(stream bytes, description entry) of a subsection: fields with their bytes, then subs."""
    body = data + b"".join(b for b, _ in subs)
    entry = {"vmsd_name": name, "version": 1, "fields": fields}
    if subs:
        entry["subsections"] = [e for _, e in subs]
    return b"\x05" + bytes([len(name)]) + name.encode() + struct.pack(">I", 1) + body, entry


def nested_subsection(blob, size_override=None):
    flags, fmt, size = struct.unpack_from("<HHI", blob)
    k = "cpu/kvm_nested_state"
    if fmt == 0:
        vmxon, vmcs12, smm = struct.unpack_from("<QQH", blob, 8)
        pages = []
        if size > 128:
            pages.append(subsection(k + "/vmx/vmcs12", [field("data.vmx[0].vmcs12", "uint8", 1, 4096)], blob[128:128 + 4096]))
        if size > 128 + 4096:
            pages.append(subsection(k + "/vmx/shadow_vmcs12", [field("data.vmx[0].shadow_vmcs12", "uint8", 1, 4096)],
                                    blob[128 + 4096:128 + 8192]))
        inner = [subsection(k + "/vmx", [field("hdr.vmx.vmxon_pa", "uint64", 8), field("hdr.vmx.vmcs12_pa", "uint64", 8),
                                         field("hdr.vmx.smm.flags", "uint16", 2)],
                            struct.pack(">QQH", vmxon, vmcs12, smm), pages)]
    else:
        inner = [subsection(k + "/svm", [field("hdr.svm.vmcb_pa", "uint64", 8), field("data.svm[0].vmcb12", "uint8", 1, 4096)],
                            struct.pack(">Q", struct.unpack_from("<Q", blob, 8)[0]) + blob[128:128 + 4096])]
    head = struct.pack(">HHI", flags, fmt, size if size_override is None else size_override)
    data = head + b"".join(b for b, _ in inner)
    st = {"vmsd_name": k, "version": 1, "fields": [field("flags", "uint16", 2), field("format", "uint16", 2), field("size", "uint32", 4)],
          "subsections": [e for _, e in inner]}
    whole = {"name": "env.nested_state", "type": "struct", "struct": st, "size": len(data)}
    return subsection("cpu/nested_state", [whole], data)


def with_nested(vcpu, blob, struct_size_delta=0, **kw):
    """The cpus-only stream with cpu/nested_state appended to vCPU `vcpu` (QEMU's last subsection)."""
    sub, entry = nested_subsection(blob, **kw)
    entry["fields"][0]["size"] += struct_size_delta
    d = json.loads(json.dumps(cpus))
    d[vcpu].setdefault("subsections", []).append(entry)
    body = [s[:-5] + sub + s[-5:] if i == vcpu else s for i, s in enumerate(secs)]
    return stream(ram_start(2, [(b"pc.ram", 1 << 24)]) + b"".join(body), d)


vmx = open(os.path.join(ROOT, "test-data/nested/vmx-l2.bin"), "rb").read()
write("test-data/qemu/nested-vmx.mig", with_nested(1, vmx))
write("fuzz/corpus/qemu/nested-vmx.mig", with_nested(1, vmx))
# The header's size says a shadow VMCS12 follows, but no subsection holds it.
write("test-data/bad/qemu-nested-size.mig", with_nested(1, vmx, size_override=8320))
# The description sizes env.nested_state 8 bytes longer than its fields and subsections.
write("test-data/bad/qemu-nested-struct-size.mig", with_nested(1, vmx, struct_size_delta=8))

for f in os.listdir(os.path.join(ROOT, "test-data/bad")):
    if f.startswith("qemu-"):
        write("fuzz/corpus/qemu/" + f, open(os.path.join(ROOT, "test-data/bad", f), "rb").read())

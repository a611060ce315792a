#!/usr/bin/env python3
"""Writes the malformed inputs in test-data/bad/ (hex-*, elf-*) and the good hex samples in
test-data/hex/ from test-data/whpx-832.bin and test-data/core-avx512.core.
Run from anywhere: python3 tests/tools/make_bad_data.py. The tests assert exact messages
for each file, so keep the edits below stable."""
import os, struct, subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
DATA = os.path.join(ROOT, 'test-data')
BAD = os.path.join(DATA, 'bad')
HEX = os.path.join(DATA, 'hex')


def w(path, data):
    with open(path, 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def run(*args, data=None):
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


whpx = open(os.path.join(DATA, 'whpx-832.bin'), 'rb').read()
core = open(os.path.join(DATA, 'core-avx512.core'), 'rb').read()
os.makedirs(BAD, exist_ok=True)
os.makedirs(HEX, exist_ok=True)

# ---- good hex samples: the WHPX buffer in every style
w(os.path.join(HEX, 'whpx-832.xxd'), run('xxd', data=whpx))
w(os.path.join(HEX, 'whpx-832-autoskip.xxd'), run('xxd', '-a', data=whpx))
w(os.path.join(HEX, 'whpx-832.xxdp'), run('xxd', '-p', data=whpx))
w(os.path.join(HEX, 'whpx-832.hexdump'), run('hexdump', '-C', data=whpx))
w(os.path.join(HEX, 'whpx-832.od'), run('od', '-A', 'x', '-t', 'x1z', data=whpx))
c_array = 'unsigned char xsave[832] = {\n' + ''.join(
    '    ' + ', '.join('0x%02x' % b for b in whpx[i:i + 12]) + ',\n' for i in range(0, len(whpx), 12)) + '};\n'
w(os.path.join(HEX, 'whpx-832-c-array.txt'), c_array)
quoted = 'On Monday someone wrote:\n' + ''.join(
    '> ' + ' '.join('%02x' % b for b in whpx[i:i + 16]) + '\n' for i in range(0, len(whpx), 16)) + '>\n> Thanks\n'
w(os.path.join(HEX, 'whpx-832-quoted.txt'), quoted)
# A KVM struct kvm_xsave: the area then zero padding to 4096; hexdump -C folds the zeros into "*".
w(os.path.join(HEX, 'kvm-4096.hexdump'), run('hexdump', '-C', data=whpx + bytes(4096 - len(whpx))))

# ---- bad hex
hd = run('hexdump', '-C', data=whpx).decode().splitlines(keepends=True)
xx = run('xxd', data=whpx).decode().splitlines(keepends=True)
w(os.path.join(BAD, 'hex-empty.txt'), '')
w(os.path.join(BAD, 'hex-prose.txt'), 'Hi Paolo,\n\nthe buffer is attached, not pasted.\n-- \nIvan\n')
w(os.path.join(BAD, 'hex-offset-jump.txt'), ''.join(xx[:3] + xx[4:]))           # line 0x30 missing
w(os.path.join(BAD, 'hex-offset-repeat.txt'), ''.join(xx[:3] + xx[2:]))         # line 0x20 twice
w(os.path.join(BAD, 'hex-odd-nibble.txt'), ' '.join('%02x' % b for b in whpx[:40]) + ' 0\n')
star = [i for i, l in enumerate(hd) if l.startswith('*')][0]
w(os.path.join(BAD, 'hex-star-at-end.txt'), ''.join(hd[:star + 1]))
w(os.path.join(BAD, 'hex-star-misaligned.txt'), ''.join(hd[:star + 1]) + '00000208  07 00 00 00 00 00 00 80  |........|\n')
w(os.path.join(BAD, 'hex-star-huge.txt'), ''.join(hd[:star + 1]) + 'fffffff00  00 00 00 00 00 00 00 00  |........|\n')
w(os.path.join(BAD, 'hex-od-octal.txt'), run('od', '-t', 'x1', data=whpx[:64]))  # octal offsets


# ---- bad ELF, all edits of the kernel core
def put(b, off, fmt, v):
    b = bytearray(b)
    struct.pack_into(fmt, b, off, v)
    return bytes(b)


phoff = struct.unpack_from('<Q', core, 32)[0]
note_ph = next(phoff + 56 * i for i in range(struct.unpack_from('<H', core, 56)[0])
               if struct.unpack_from('<I', core, phoff + 56 * i)[0] == 4)
note_off, note_size = struct.unpack_from('<Q', core, note_ph + 8)[0], struct.unpack_from('<Q', core, note_ph + 32)[0]
notes = []   # (offset, namesz, descsz, type)
p = note_off
while p < note_off + note_size:
    namesz, descsz, typ = struct.unpack_from('<III', core, p)
    notes.append((p, namesz, descsz, typ))
    p += 12 + (namesz + 3 & ~3) + (descsz + 3 & ~3)

# Only the headers and notes matter (the reader ignores PT_LOAD), so keep the files small.
full_core, core = core, core[:note_off + note_size + 16]   # slack for the truncated-header case
w(os.path.join(BAD, 'elf-not-elf.bin'), whpx)
w(os.path.join(BAD, 'elf-truncated-header.bin'), core[:40])
w(os.path.join(BAD, 'elf-32bit.bin'), put(core, 4, '<B', 1)[:4096])
w(os.path.join(BAD, 'elf-big-endian.bin'), put(core, 5, '<B', 2)[:4096])
w(os.path.join(BAD, 'elf-not-core.bin'), put(core, 16, '<H', 2)[:4096])
w(os.path.join(BAD, 'elf-arm64.bin'), put(core, 18, '<H', 183)[:4096])
w(os.path.join(BAD, 'elf-phnum-absurd.bin'), put(core, 56, '<H', 60000))
w(os.path.join(BAD, 'elf-phnum-xnum.bin'), put(put(core, 56, '<H', 0xffff), 40, '<Q', 1 << 40))
w(os.path.join(BAD, 'elf-no-phdrs.bin'), put(core, 56, '<H', 0))
w(os.path.join(BAD, 'elf-note-past-file.bin'), core[:note_off + note_size - 100])   # truncated core
xstate = [n for n in notes if n[3] == 0x202]
w(os.path.join(BAD, 'elf-note-size-past-segment.bin'), put(core, xstate[0][0] + 4, '<I', 0xfffffff0))
w(os.path.join(BAD, 'elf-note-header-truncated.bin'), put(core, note_ph + 32, '<Q', note_size + 4))
no_xstate = core
for n in xstate:
    no_xstate = put(no_xstate, n[0] + 8, '<I', 0x2ff)
# Without its XSTATE notes the core still holds each thread's NT_FPREGSET (FXSAVE): a good input now.
w(os.path.join(BAD, '..', 'core-fxsave-only.core'), no_xstate)
w(os.path.join(BAD, 'elf-short-xstate.bin'), put(core, xstate[0][0] + 4, '<I', 100))
# Every program header a copy of the PT_NOTE one: overlapping segments must not multiply copies.
overlap = bytearray(core)
for i in range(struct.unpack_from('<H', core, 56)[0]):
    overlap[phoff + 56 * i:phoff + 56 * (i + 1)] = core[note_ph:note_ph + 56]
w(os.path.join(BAD, 'elf-notes-overlap.bin'), bytes(overlap))
print('notes:', [(hex(o), hex(t), d) for o, _, d, t in notes])

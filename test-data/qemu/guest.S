# A multiboot guest for QEMU migration-stream tests: enters long mode, enables x87/SSE/AVX
# (and PKRU when CPUID has PKU) through XCR0, loads known values into the vector registers and
# general registers, and halts. The AP (started with INIT-SIPI-SIPI) loads other values.
# Build: as --32 -o guest.o guest.S && ld -m elf_i386 -Ttext=0x100000 -e _start -o guest.elf guest.o

        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0
        .text
        .code32
        .align 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .globl _start
_start:
        cli
        mov $bsp_stack, %esp
        # Page tables: first 1 GiB identity-mapped with 2 MiB pages.
        mov $pdpt + 3, %eax
        mov %eax, pml4
        mov $pd + 3, %eax
        mov %eax, pdpt
        xor %ecx, %ecx
1:      mov %ecx, %eax
        shl $21, %eax
        or $0x83, %eax
        mov %eax, pd(,%ecx,8)
        inc %ecx
        cmp $512, %ecx
        jne 1b
        # Start the AP: copy the real-mode trampoline to 0x8000, INIT, SIPI, SIPI.
        mov $trampoline, %esi
        mov $0x8000, %edi
        mov $(trampoline_end - trampoline), %ecx
        rep movsb
        movl $0x000c4500, 0xfee00300      # INIT, all excluding self
        mov $200000, %ecx
2:      loop 2b
        movl $0x000c4608, 0xfee00300      # SIPI, vector 0x08 -> 0x8000
        mov $200000, %ecx
3:      loop 3b
        movl $0x000c4608, 0xfee00300
        mov $0, %ebp                     # which values: 0 = BSP (EBP: CPUID clobbers EBX)
        jmp enter_long

# Both CPUs come here in 32-bit protected mode with EBP = CPU number.
enter_long:
        mov $pml4, %eax
        mov %eax, %cr3
        # CR4: PAE | OSFXSR | OSXMMEXCPT | OSXSAVE, and PKE when CPUID.7.0:ECX.PKU.
        mov %cr4, %eax
        or $(1 << 5 | 1 << 9 | 1 << 10 | 1 << 18), %eax
        mov %eax, %edi
        mov $7, %eax
        xor %ecx, %ecx
        cpuid
        mov %edi, %eax
        test $(1 << 3), %ecx
        jz 4f
        or $(1 << 22), %eax
4:      mov %eax, %cr4
        mov $0xC0000080, %ecx             # EFER.LME
        rdmsr
        or $(1 << 8), %eax
        wrmsr
        mov %cr0, %eax
        and $~(1 << 2), %eax              # EM off
        or $(1 << 31 | 1 << 5 | 1 << 1), %eax   # PG, NE, MP
        mov %eax, %cr0
        lgdt gdtr
        ljmp $8, $long_mode

        .code64
long_mode:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        # XCR0 = what CPUID.(0xD,0).EAX supports of x87 | SSE | AVX | PKRU.
        mov $0xd, %eax
        xor %ecx, %ecx
        cpuid
        and $0x207, %eax
        xor %edx, %edx
        xor %ecx, %ecx
        xsetbv
        mov %rbp, %r15                    # CPU number
        mov %rbp, %rbx
        shl $9, %rbx                      # 512 bytes of YMM values per CPU
        mov $ymm_values, %esi             # 32-bit immediates: this is an elf_i386 image
        add %rbx, %rsi
        vmovdqu 0(%rsi), %ymm0
        vmovdqu 32(%rsi), %ymm1
        vmovdqu 64(%rsi), %ymm2
        vmovdqu 96(%rsi), %ymm3
        vmovdqu 128(%rsi), %ymm4
        vmovdqu 160(%rsi), %ymm5
        vmovdqu 192(%rsi), %ymm6
        vmovdqu 224(%rsi), %ymm7
        vmovdqu 256(%rsi), %ymm8
        vmovdqu 288(%rsi), %ymm9
        vmovdqu 320(%rsi), %ymm10
        vmovdqu 352(%rsi), %ymm11
        vmovdqu 384(%rsi), %ymm12
        vmovdqu 416(%rsi), %ymm13
        vmovdqu 448(%rsi), %ymm14
        vmovdqu 480(%rsi), %ymm15
        mov $mxcsr_values, %eax
        ldmxcsr (%rax,%r15,4)
        fninit
        mov $fcw_values, %eax
        fldcw (%rax,%r15,2)
        test %r15, %r15
        jnz 5f
        fldpi                             # BSP: st2 = pi, st1 = 1, st0 = 1.5 (80-bit from memory)
        fld1
        mov $x87_bsp, %eax
        fldt (%rax)
        jmp 6f
5:      fldl2e                            # AP: st1 = log2(e), st0 = -2.5
        mov $x87_ap, %eax
        fldt (%rax)
6:      # PKRU when the CPU has it (CR4.PKE set above).
        mov %cr4, %rax
        test $(1 << 22), %eax
        jz 7f
        mov $pkru_values, %eax
        mov (%rax,%r15,4), %eax
        xor %ecx, %ecx
        xor %edx, %edx
        wrpkru
7:      test %r15, %r15
        jnz 8f
        mov $0x1111111111111111, %rax
        mov $0x2222222222222222, %rbx
        mov $0x3333333333333333, %rcx
        mov $0x4444444444444444, %rdx
        mov $0x5555555555555555, %rsi
        mov $0x6666666666666666, %rdi
        mov $0x0123456789abcdef, %r8
        mov $0xfedcba9876543210, %r9
        jmp halt
8:      mov $0xa1a1a1a1a1a1a1a1, %rax
        mov $0xb2b2b2b2b2b2b2b2, %rbx
        mov $0xc3c3c3c3c3c3c3c3, %rcx
        mov $0xd4d4d4d4d4d4d4d4, %rdx
        mov $0xe5e5e5e5e5e5e5e5, %rsi
        mov $0xf6f6f6f6f6f6f6f6, %rdi
        mov $0x1020304050607080, %r8
        mov $0x8070605040302010, %r9
halt:   hlt
        jmp halt

        .code16
# Copied to 0x8000: the AP starts here in real mode (CS = 0x800).
trampoline:
        cli
        xor %ax, %ax
        mov %ax, %ds
        lgdtl 0x8000 + (tramp_gdtr - trampoline)
        mov %cr0, %eax
        or $1, %eax
        mov %eax, %cr0
        ljmpl $0x18, $ap_entry
tramp_gdtr:
        .word gdt_end - gdt - 1
        .long gdt
trampoline_end:

        .code32
ap_entry:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $ap_stack, %esp
        mov $1, %ebp
        jmp enter_long

        .data
        .align 16
gdt:    .quad 0
        .quad 0x00209a0000000000          # 0x08: 64-bit code
        .quad 0x00cf92000000ffff          # 0x10: flat data
        .quad 0x00cf9a000000ffff          # 0x18: flat 32-bit code
gdt_end:
gdtr:   .word gdt_end - gdt - 1
        .long gdt
        .align 16
# ymm<n> byte k of CPU c: i = c * 512 + n * 32 + k; ((i * 7 + 3) ^ c * 0x5a) mod 256
ymm_values:
        .set i, 0
        .rept 1024
        .byte ((i * 7 + 3) ^ (i >> 9) * 0x5a) & 0xff
        .set i, i + 1
        .endr
mxcsr_values: .long 0x5f81, 0x3fa0
pkru_values:  .long 0x55555554, 0x0000000c
fcw_values:   .word 0x027f, 0x0c7f
x87_bsp: .quad 0xc000000000000000     # 1.5
         .word 0x3fff
x87_ap:  .quad 0xa000000000000000     # -2.5
         .word 0xc000

        .bss
        .align 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096
        .skip 4096
bsp_stack:
        .skip 4096
ap_stack:

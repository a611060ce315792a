# XSAVE_BENCH_ITERATIONS=N gdb -batch -nx -x bench/count_steps.py --args xsave_bench --benchmark_filter=...
# Counts the instructions that one case's timing loop runs, from the return of
# benchmark::State::StartKeepRunning to the call of FinishKeepRunning (scripts/bench takes the
# difference of two values of N, to leave out what is run once). A repeated string instruction
# (rep movsb) counts once: single-stepping stops after each of its iterations at one address.
# Prints "STEPS <n>".
import gdb

gdb.execute("set pagination off")
gdb.execute("break benchmark::State::StartKeepRunning", to_string=True)
gdb.execute("run", to_string=True)
gdb.execute("delete", to_string=True)
# The first stop is the PLT stub: return to the case's own function.
ret = int(gdb.parse_and_eval("*(unsigned long*)$sp"))
gdb.execute(f"tbreak *{ret}", to_string=True)
gdb.execute("continue", to_string=True)
LIMIT = 500000   # far above any loop here: a missed stop ends as an error, not a hang
n, last = 0, None
while n <= LIMIT:
    pc = int(gdb.parse_and_eval("$pc"))
    name = gdb.selected_frame().name() or ""
    if "FinishKeepRunning" in name:
        break
    if pc != last:
        n, last = n + 1, pc
    gdb.execute("stepi", to_string=True)
print(f"STEPS {n}" if n <= LIMIT else "STEPS none: FinishKeepRunning not reached")
gdb.execute("kill", to_string=True)

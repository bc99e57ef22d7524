"""The compute-script zygote: a pre-initialised python3 that forks one fresh, confined child per `run`.

The Swift plugin (jalm-layer-compute-script) starts a few of these inside its own sandbox, each with a
socketpair on fd 3, and sends one run at a time as one JSON line; the zygote answers one JSON line.
The zygote never runs user code itself. For each run it:

  * makes the run's cgroup (v1: memory, pids, cpu folders; v2: one folder) beneath the layer process's
    own leaf and writes the run's limits there, and a private temp folder <data>/script-tmp/<run>;
  * forks a child that joins that cgroup, sets rlimits (CPU seconds, file size, open files, no core),
    stacks a Landlock ruleset of its own (the system read-only, its temp folder read-write, no TCP,
    no signals or abstract sockets outside its domain) and a stricter seccomp filter, closes every
    inherited fd, chdirs into the temp folder and runs the script: python3 in-process (already
    initialised: this is what makes a run cost about a millisecond), sh/node through execve;
  * feeds stdin, reads stdout/stderr up to their caps, enforces the wall clock, waits for the child,
    kills whatever is left in the run's cgroup, says which limit (if any) ended the run, and removes
    the cgroup and the temp folder.

Everything here is stdlib (ctypes for the syscalls); docs/layers.md ("compute-script: run") explains it.
"""

import builtins
import ctypes
import errno
import gc
import json
import os
import select
import shutil
import signal
import sys
import time
import traceback

# Modules a script commonly imports, loaded once here so a run pays nothing for them.
import base64, collections, datetime, decimal, functools, hashlib, itertools, math, random, re, statistics, string  # noqa: E401,F401
import textwrap, unicodedata, uuid, csv, io  # noqa: E401,F401
import resource

CTL = 3  # the socketpair to the plugin
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long
LIBC.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# ---------------------------------------------------------------------------------------------- cgroups


def own_cgroups():
    """(mode, {controller: folder}) of this process's cgroup leaf, from /proc/self/cgroup. The leaf is
    never the root of a hierarchy: runs are only ever made beneath the layer process's own leaf."""
    v1 = {}
    v2 = None
    for line in open("/proc/self/cgroup").read().splitlines():
        _, ctrls, path = line.split(":", 2)
        if ctrls == "":
            v2 = path
        for c in ctrls.split(","):
            if c in ("memory", "pids", "cpu") and path != "/":
                v1[c] = "/sys/fs/cgroup/%s%s" % (c, path)
    if len(v1) == 3:
        # The kernel makes <leaf>/runs for this layer: the only part of its cgroups it may write.
        return "v1", {c: (d + "/runs" if os.path.isdir(d + "/runs") else d) for c, d in v1.items()}
    if v2 and v2 != "/" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        # The plugin moved itself (and so its zygotes) into <leaf>/layer; runs go beside it in <leaf>.
        leaf = v2[:-len("/layer")] if v2.endswith("/layer") else v2
        return "v2", {"": "/sys/fs/cgroup" + leaf}
    return "none", {}


def write_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def count_line(text, key):
    """The number after `key ` on one of the lines of a cgroup stat file (oom_kill N, max N)."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return 0


class RunCgroup:
    """One run's cgroup: made before the run, joined by the child, emptied and removed after it."""

    def __init__(self, mode, parents, name):
        self.mode = mode
        self.dirs = {c: p + "/" + name for c, p in parents.items()}
        for d in self.dirs.values():
            os.mkdir(d, 0o755)

    def apply(self, limits, applied):
        """Writes the limits that differ from those in `applied` (and records them there)."""
        def put(key, path, value):
            if applied.get(key) != value:
                write_file(path, value)
                applied[key] = value
        mem = str(limits["memory_bytes"])
        if self.mode == "v1":
            m, p, c = self.dirs["memory"], self.dirs["pids"], self.dirs["cpu"]
            memsw = m + "/memory.memsw.limit_in_bytes"
            if applied.get("memory") != mem and os.path.exists(memsw):
                # memsw (memory + swap) must stay >= the memory limit at every write; equal means no swap.
                try:
                    write_file(memsw, mem)
                except OSError:
                    pass
                write_file(m + "/memory.limit_in_bytes", mem)
                write_file(memsw, mem)
                applied["memory"] = mem
            put("memory", m + "/memory.limit_in_bytes", mem)
            put("pids", p + "/pids.max", str(limits["pids"]))
            # -1 (no quota of its own: the layer's applies through the hierarchy) is what mkdir made, so
            # it costs no write; a cpu.cfs_quota_us write walks every cpu cgroup of the host (~ms here).
            if applied.get("cpu") is not None or limits["cpu_quota_us"] != -1:
                put("cpu", c + "/cpu.cfs_quota_us", str(limits["cpu_quota_us"]))
        else:
            d = self.dirs[""]
            put("memory", d + "/memory.max", mem)
            if os.path.exists(d + "/memory.swap.max"):
                put("swap", d + "/memory.swap.max", "0")
            put("oom_group", d + "/memory.oom.group", "1")
            put("pids", d + "/pids.max", str(limits["pids"]))
            q = limits["cpu_quota_us"]
            if applied.get("cpu") is not None or q != -1:
                put("cpu", d + "/cpu.max", ("%d 100000" % q) if q > 0 else "max 100000")

    def join_paths(self):
        return [d + "/cgroup.procs" for d in self.dirs.values()]

    def pids_dir(self):
        return self.dirs.get("pids") or self.dirs[""]

    def procs(self):
        return [int(x) for x in read_file(self.pids_dir() + "/cgroup.procs").split()]

    def oom_kills(self):
        if self.mode == "v1":
            return count_line(read_file(self.dirs["memory"] + "/memory.oom_control"), "oom_kill")
        return count_line(read_file(self.dirs[""] + "/memory.events"), "oom_kill")

    def memory_peak(self):
        f = self.dirs["memory"] + "/memory.max_usage_in_bytes" if self.mode == "v1" else self.dirs[""] + "/memory.peak"
        t = read_file(f).strip()
        return int(t) if t.isdigit() else None

    def pids_hits(self):
        return count_line(read_file(self.pids_dir() + "/pids.events"), "max")

    def kill_all(self):
        """Kills every process left in the run's cgroup; returns their pids. v2: cgroup.kill; v1: stop
        forks (pids.max 0) and SIGKILL each member until none is left."""
        killed = []
        if self.mode == "v2" and os.path.exists(self.dirs[""] + "/cgroup.kill"):
            killed = self.procs()
            if killed:
                write_file(self.dirs[""] + "/cgroup.kill", "1")
        else:
            left = self.procs()
            if left:
                write_file(self.pids_dir() + "/pids.max", "0")
            for _ in range(1000):
                if not left:
                    break
                for pid in left:
                    if pid not in killed:
                        killed.append(pid)
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                reap()
                left = self.procs()
                if left:
                    time.sleep(0.0005)
        deadline = time.monotonic() + 2
        while self.procs() and time.monotonic() < deadline:
            reap()
            time.sleep(0.0005)
        reap()
        return killed

    def remove(self):
        for d in self.dirs.values():
            for _ in range(200):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY:
                        break
                    reap()
                    time.sleep(0.001)


def reap():
    """Reaps every exited child, including orphans of runs (the zygote is a child subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# --------------------------------------------------------------------------------------------- landlock

LL_CREATE, LL_ADD, LL_RESTRICT = 444, 445, 446
LL_RO_DIR = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read_file, read_dir
LL_RO_FILE = (1 << 0) | (1 << 2)
LL_RW_FILE = (1 << 1) | (1 << 2)  # write_file, read_file (/dev/null)


class RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]


def landlock_abi():
    return LIBC.syscall(LL_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))


class Landlock:
    """The per-run ruleset: prepared in the zygote (paths opened once), applied in each child."""

    def __init__(self, read_only, read_write_files):
        self.abi = landlock_abi()
        self.rules = []  # (fd, rights)
        for path in read_only:
            self.add(path, LL_RO_DIR, LL_RO_FILE)
        for path in read_write_files:
            self.add(path, LL_RW_FILE, LL_RW_FILE)

    def add(self, path, dir_rights, file_rights):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return  # absent on this host (or not visible to the layer): nothing to grant
        self.rules.append((fd, dir_rights if os.path.isdir(path) else file_rights))

    def handled_fs(self):
        if self.abi >= 5:
            return (1 << 16) - 1
        if self.abi >= 3:
            return (1 << 15) - 1
        if self.abi == 2:
            return (1 << 14) - 1
        return (1 << 13) - 1

    def apply(self, tmp_fd):
        """In the child: only the system read-only and its own temp folder read-write; no TCP; no
        signals or abstract Unix sockets beyond its own domain. Raises OSError when Landlock fails."""
        if self.abi < 1:
            raise OSError(errno.ENOSYS, "Landlock is not available; a run needs it for its private temp folder")
        attr = RulesetAttr(self.handled_fs(), 3 if self.abi >= 4 else 0, 3 if self.abi >= 6 else 0)
        size = 24 if self.abi >= 6 else (16 if self.abi >= 4 else 8)
        rs = LIBC.syscall(LL_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
        if rs < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
        rules = self.rules + [(tmp_fd, self.handled_fs())]
        for fd, rights in rules:
            pb = PathBeneath(rights & self.handled_fs(), fd)
            if LIBC.syscall(LL_ADD, ctypes.c_int(rs), ctypes.c_int(1), ctypes.byref(pb), ctypes.c_uint32(0)) < 0:
                raise OSError(ctypes.get_errno(), "landlock_add_rule")
        if LIBC.syscall(LL_RESTRICT, ctypes.c_int(rs), ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
        os.close(rs)


# ---------------------------------------------------------------------------------------------- seccomp
# A filter stacked on the layer's own (which stays in force: the stricter action wins). It only narrows
# what the layer allows its own code: no namespaces, no prlimit/priority/affinity on other processes,
# no clone3 (its flags are out of a filter's reach; glibc falls back to clone on ENOSYS), no sockets.

AUDIT_ARCH_X86_64 = 0xC000003E
NR = {"clone": 56, "clone3": 435, "unshare": 272, "setns": 308, "prlimit64": 302, "setpriority": 141,
      "sched_setaffinity": 203, "sched_setscheduler": 144, "sched_setparam": 142, "socket": 41,
      "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "pidfd_getfd": 438,
      "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "keyctl": 250, "add_key": 248,
      "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
      "personality": 135}
CLONE_NS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(SockFilter))]


def build_filter():
    LD_W_ABS, JEQ, JSET, RET, ALU_AND = 0x20, 0x15, 0x45, 0x06, 0x54
    ALLOW, KILL = 0x7FFF0000, 0x80000000

    def errno_ret(e):
        return (RET, 0, 0, 0x00050000 | e)
    prog = [(LD_W_ABS, 0, 0, 4), (JEQ, 1, 0, AUDIT_ARCH_X86_64), (RET, 0, 0, KILL), (LD_W_ABS, 0, 0, 0)]
    plain = [("clone3", errno.ENOSYS), ("unshare", errno.EPERM), ("setns", errno.EPERM), ("socket", errno.EACCES),
             ("ptrace", errno.EPERM), ("process_vm_readv", errno.EPERM), ("process_vm_writev", errno.EPERM),
             ("kcmp", errno.EPERM), ("pidfd_getfd", errno.EPERM), ("mount", errno.EPERM), ("umount2", errno.EPERM),
             ("pivot_root", errno.EPERM), ("chroot", errno.EPERM), ("keyctl", errno.EPERM), ("add_key", errno.EPERM),
             ("request_key", errno.EPERM), ("bpf", errno.EPERM), ("perf_event_open", errno.EPERM),
             ("userfaultfd", errno.EPERM), ("io_uring_setup", errno.ENOSYS), ("personality", errno.EPERM),
             ("sched_setscheduler", errno.EPERM), ("sched_setparam", errno.EPERM)]
    for name, e in plain:
        prog += [(JEQ, 0, 1, NR[name]), errno_ret(e)]
    # Calls on another process (pid argument not 0) fail with EPERM: a script may only touch itself.
    for name in ("prlimit64", "sched_setaffinity"):
        prog += [(JEQ, 0, 4, NR[name]), (LD_W_ABS, 0, 0, 16), (JEQ, 1, 0, 0), errno_ret(errno.EPERM), (RET, 0, 0, ALLOW)]
    # setpriority(which, who != 0): another process, group or user.
    prog += [(JEQ, 0, 4, NR["setpriority"]), (LD_W_ABS, 0, 0, 24), (JEQ, 1, 0, 0), errno_ret(errno.EPERM), (RET, 0, 0, ALLOW)]
    # clone with a CLONE_NEW* flag: no namespaces of its own.
    prog += [(JEQ, 0, 3, NR["clone"]), (LD_W_ABS, 0, 0, 16), (JSET, 0, 1, CLONE_NS), errno_ret(errno.EPERM)]
    prog += [(RET, 0, 0, ALLOW)]
    arr = (SockFilter * len(prog))(*[SockFilter(*i) for i in prog])
    return arr, SockFprog(len(prog), arr)


FILTER = build_filter()


def load_filter():
    if LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(FILTER[1]), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter")


# ------------------------------------------------------------------------------------------------ child

RLIMITS = {"cpu": 0, "fsize": 1, "core": 4, "nofile": 7}


def child(run, tmp_fd, fds):
    """The forked child. Before its run is asked for: join the run's cgroup, stack the run's Landlock
    ruleset, chdir into its temp folder, keep only fds 0-4. Then read the request on fd 4, set the
    run's rlimits, stack the seccomp filter and run the script. Never returns."""
    stdin_r, stdout_w, stderr_w, err_w, req_r = fds
    report = err_w
    try:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        for path in run.join_paths():
            write_file(path, "0")
        LANDLOCK.apply(tmp_fd)
        os.fchdir(tmp_fd)
        for i, fd in enumerate((stdin_r, stdout_w, stderr_w, err_w, req_r)):
            os.dup2(fd, 10 + i)  # first out of the way, so no dup2 below overwrites a source
        for i in range(5):
            os.dup2(10 + i, i)
        report = 3
        os.set_inheritable(3, False)  # an execve that works closes it: the zygote sees EOF, no report
        os.closerange(5, 1 << 20)
        LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        # Ready: from here on the child only waits for its request (the zygote's previous run is over).
        raw = bytearray()
        while True:
            chunk = os.read(4, 1 << 20)
            if not chunk:
                break
            raw += chunk
        os.close(4)
        if not raw:
            os._exit(0)  # the zygote is shutting down and retires its warm child
        req = json.loads(raw)
        lim = req["limits"]
        cpu = lim["cpu_seconds"]
        resource.setrlimit(RLIMITS["cpu"], (cpu, cpu + 1))
        resource.setrlimit(RLIMITS["fsize"], (lim["file_bytes"], lim["file_bytes"]))
        resource.setrlimit(RLIMITS["core"], (0, 0))
        resource.setrlimit(RLIMITS["nofile"], (lim["open_files"], lim["open_files"]))
        load_filter()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGXCPU, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        tmp = req["tmp"]
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1"}
        if req["language"] != "python3":
            argv = [req["interpreter"], "-c" if req["language"] == "sh" else "-e", req["code"]]
            os.execve(req["interpreter"], argv, env)
        os.environ.clear()
        os.environ.update(env)
    except BaseException as e:  # confinement failed: say so and never run the script
        try:
            os.write(report, ("%s: %s" % (type(e).__name__, e)).encode()[:2000])
        except OSError:
            pass
        os._exit(126)
    status = run_python(req["code"])
    # Close the output first, then say how it ended on fd 3 and close that too: the zygote can answer
    # as soon as it reads this, before the kernel has torn down this process's memory (the slow part
    # of an exit). The script could forge this line; it would only misreport its own exit code.
    for fd in (0, 1, 2):
        try:
            os.close(fd)
        except OSError:
            pass
    usage = resource.getrusage(resource.RUSAGE_SELF)
    try:
        os.write(3, b"\0status %d %d" % (status, int((usage.ru_utime + usage.ru_stime) * 1e6)))
        os.close(3)
    except OSError:
        pass
    os._exit(status)


def run_python(code):
    """Runs the script in this (already confined) interpreter. With `main(input)` defined, the layer
    calls it with the parsed stdin and writes its return value as JSON on stdout; print() inside main
    goes to stderr so it cannot spoil that JSON."""
    sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)
    sys.argv = ["script"]
    g = {"__name__": "__main__", "__builtins__": builtins, "__file__": "<script>"}
    status = 0
    try:
        exec(compile(code, "<script>", "exec"), g)
        main = g.get("main")
        if callable(main):
            data = json.load(sys.stdin)
            real = sys.stdout
            sys.stdout = sys.stderr
            try:
                result = main(data)
            finally:
                sys.stdout = real
            json.dump(result, sys.stdout, ensure_ascii=False, allow_nan=False)
    except SystemExit as e:
        c = e.code
        status = c if isinstance(c, int) else (0 if c is None else 1)
        if c is not None and not isinstance(c, int):
            print(c, file=sys.stderr)
    except BaseException as e:
        tb = e.__traceback__
        traceback.print_exception(type(e), e, tb.tb_next if tb is not None else None)  # from the script's frame
        status = 1
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:
            pass
    return status & 0xFF


# ----------------------------------------------------------------------------------------------- parent

class Collected:
    def __init__(self, cap, fatal):
        self.cap, self.fatal = cap, fatal
        self.data = bytearray()
        self.total = 0

    def add(self, chunk):
        self.total += len(chunk)
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self.total > self.cap


class Outcome:
    """What supervise saw of one run."""

    def __init__(self):
        self.status = None     # wait status, when the process was reaped before the reply
        self.reported = None   # (exit code, cpu us) from the python child's status line
        self.rusage = None
        self.limit = None
        self.leftovers = []
        self.setup_error = b""


def supervise(req, pid, pidfd, stdin_w, stdout_r, stderr_r, err_r, run):
    """Feeds stdin, collects output under caps, enforces the wall clock. The run is over when the child
    has said how it ended (python) or has exited (sh, node, killed) and its pipes are closed; anything
    still holding them then is a process it left behind, killed here."""
    lim = req["limits"]
    start = time.monotonic()
    deadline = start + lim["wall_ms"] / 1000.0
    out = Collected(lim["stdout_bytes"], True)
    err = Collected(lim["stderr_bytes"], False)
    o = Outcome()
    side = bytearray()
    pending = memoryview(req["input"].encode())
    poll = select.poll()
    sinks = {stdout_r: out, stderr_r: err}
    for fd in (stdout_r, stderr_r, err_r):
        poll.register(fd, select.POLLIN)
    poll.register(pidfd, select.POLLIN)
    poll.register(CTL, select.POLLIN)
    if len(pending):
        os.set_blocking(stdin_w, False)
        poll.register(stdin_w, select.POLLOUT)
    else:
        os.close(stdin_w)
        stdin_w = -1
    exited = False
    open_fds = {stdout_r, stderr_r, err_r}
    while o.limit is None:
        ended = exited or (err_r not in open_fds and side.startswith(b"\0status "))
        if ended and not open_fds:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            o.limit = "wall_ms"
            break
        if ended:
            left = 0.0  # read what is buffered; a pipe still open is held by a leftover, killed below
        events = poll.poll(left * 1000)
        if ended and not events:
            break
        for fd, ev in events:
            if fd == pidfd:
                exited = True
                poll.unregister(pidfd)
            elif fd == CTL:
                if control_cancelled(req["id"]):
                    o.limit = "cancelled"
            elif fd == stdin_w:
                try:
                    n = os.write(stdin_w, pending[:65536])
                    pending = pending[n:]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    pending = pending[:0]
                if not len(pending):
                    poll.unregister(stdin_w)
                    os.close(stdin_w)
                    stdin_w = -1
            else:
                chunk = os.read(fd, 65536)
                if not chunk:
                    poll.unregister(fd)
                    open_fds.discard(fd)
                elif fd == err_r:
                    side += chunk[:4096]
                elif sinks[fd].add(chunk) and sinks[fd].fatal:
                    o.limit = "stdout_bytes"
    if stdin_w >= 0:
        os.close(stdin_w)
    reported = side.startswith(b"\0status ")
    if reported and o.limit is None:
        parts = side.split()
        o.reported = (int(parts[1]), int(parts[2]))
        if exited:
            _, o.status, o.rusage = os.wait4(pid, 0)  # already a zombie: reaping it costs nothing
    else:
        # A status line with a limit hit (the script finished just as it met stdout_bytes, say) is no
        # setup failure: the limit decides the outcome. Only other text on fd 3 is a setup error.
        if not reported:
            o.setup_error = bytes(side)
        if not exited:
            os.kill(pid, signal.SIGKILL)  # a limit or a cancel ends it; not reaped yet, so the pid is its own
        _, o.status, o.rusage = os.wait4(pid, 0)
    if open_fds:
        o.leftovers = [p for p in run.kill_all() if p != pid]
        for fd in list(open_fds):
            drain(fd, sinks.get(fd), None)
    if o.limit is None and out.total > out.cap:
        o.limit = "stdout_bytes"
    o.wall_ms = (time.monotonic() - start) * 1000
    return o, out, err


def drain(fd, sink, _):
    """Reads a pipe to EOF once every writer is gone (after the kill)."""
    os.set_blocking(fd, False)
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        if sink is not None:
            sink.add(chunk)


CANCELLED = set()
PENDING = []


def control_cancelled(run_id):
    """Reads control lines during a run: a `cancel` for this run stops it."""
    for msg in read_messages(block=False):
        if msg.get("t") == "cancel":
            CANCELLED.add(msg.get("id"))
        else:
            PENDING.append(msg)
    return run_id in CANCELLED


def classify(o, run, lim):
    """Which limit ended the run, if any, from the kernel's own counters and the way the child ended."""
    if o.limit:
        return o.limit
    if o.reported is not None:
        sig, code, cpu = None, o.reported[0], o.reported[1] / 1e6
    else:
        st = o.status
        sig = os.WTERMSIG(st) if os.WIFSIGNALED(st) else None
        code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else None
        cpu = o.rusage.ru_utime + o.rusage.ru_stime
    if run.oom_kills() > 0:
        return "memory_mb"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= lim["cpu_seconds"]):
        return "cpu_seconds"
    if sig == signal.SIGXFSZ:
        return "file_bytes"
    if (sig is not None or code) and run.pids_hits() > 0:
        return "pids"
    return None


class Warm:
    """The next run, made ahead while the zygote is idle: its cgroup, its temp folder and a forked child
    already inside both, confined and waiting for its request."""

    def __init__(self, zygote):
        zygote.counter += 1
        self.name = "run-%d-%d" % (os.getpid(), zygote.counter)
        self.cg = RunCgroup(zygote.mode, zygote.parents, self.name)
        # The default limits now, before the child joins: a request that keeps them writes nothing on
        # its own path (a cpu.cfs_quota_us write alone costs milliseconds on this kernel).
        self.applied = {}
        self.cg.apply(zygote.defaults, self.applied)
        self.tmp = zygote.tmp_root + "/" + self.name
        os.mkdir(self.tmp, 0o700)
        tmp_fd = os.open(self.tmp, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        stdin_r, self.stdin_w = os.pipe2(os.O_CLOEXEC)
        self.stdout_r, stdout_w = os.pipe2(os.O_CLOEXEC)
        self.stderr_r, stderr_w = os.pipe2(os.O_CLOEXEC)
        self.err_r, err_w = os.pipe2(os.O_CLOEXEC)
        req_r, self.req_w = os.pipe2(os.O_CLOEXEC)
        theirs = (stdin_r, stdout_w, stderr_w, err_w, req_r)
        self.pid = os.fork()
        if self.pid == 0:
            child(self.cg, tmp_fd, theirs)
        for fd in theirs + (tmp_fd,):
            os.close(fd)
        self.pidfd = os.pidfd_open(self.pid)

    def close(self):
        for fd in (self.stdin_w, self.stdout_r, self.stderr_r, self.err_r, self.req_w, self.pidfd):
            try:
                os.close(fd)
            except OSError:
                pass


class Zygote:
    def __init__(self, config):
        self.data = config["data"]
        self.tmp_root = self.data + "/script-tmp"
        self.mode, self.parents = own_cgroups()
        if self.mode == "none":
            raise SystemExit("compute-script: no cgroup of its own to put runs in (memory, pids, cpu)")
        self.counter = 0
        self.warm = None
        self.finished = None
        self.defaults = config["defaults"]

    def prepare(self):
        """Makes the next run while idle, off the next request's path."""
        self.warm = Warm(self)

    def run(self, req):
        if self.warm is None:
            self.prepare()
        w, self.warm = self.warm, None
        req["tmp"] = w.tmp
        lim = req["limits"]
        began = time.monotonic()
        try:
            w.cg.apply(lim, w.applied)
            write_all(w.req_w, json.dumps(req).encode())
        except OSError:
            pass  # the child died before its request (its reason is on err_r); reported below
        os.close(w.req_w)
        w.req_w = -1
        stdin_w, w.stdin_w = w.stdin_w, -1  # supervise closes it
        try:
            o, out, err = supervise(req, w.pid, w.pidfd, stdin_w, w.stdout_r, w.stderr_r, w.err_r, w.cg)
        finally:
            w.close()
        limit = classify(o, w.cg, lim)
        if o.reported is not None:
            code, sig, cpu_ms = o.reported[0], None, o.reported[1] / 1000
        else:
            st = o.status
            code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else None
            sig = os.WTERMSIG(st) if os.WIFSIGNALED(st) else None
            cpu_ms = (o.rusage.ru_utime + o.rusage.ru_stime) * 1000
        reply = {
            "t": "done", "id": req["id"], "pid": w.pid, "tmp": w.tmp, "cgroup": w.name,
            "exit_code": code, "signal": sig, "limit": limit,
            "stdout": out.data.decode("utf-8", "replace"), "stdout_bytes": out.total,
            "stderr": err.data.decode("utf-8", "replace"), "stderr_bytes": err.total,
            "cpu_ms": round(cpu_ms, 3), "wall_ms": round(o.wall_ms, 3),
            "run_ms": round((time.monotonic() - began) * 1000, 3),
            "memory_peak_bytes": w.cg.memory_peak(), "leftover_pids": o.leftovers,
        }
        if o.setup_error:
            reply["setup_error"] = o.setup_error.decode("utf-8", "replace")
        self.finished = (w.cg, w.tmp, w.pid)
        return reply


def write_all(fd, data):
    view = memoryview(data)
    while len(view):
        n = os.write(fd, view)
        view = view[n:]


def cleanup(cg, tmp, pid=None):
    """After the reply: kill whatever is left of the run (it may still be exiting), reap it, remove its
    cgroup and its temp folder. The zygote takes no other run before this is done."""
    cg.kill_all()
    if pid is not None:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # reaped by kill_all
    cg.remove()
    shutil.rmtree(tmp, ignore_errors=True)


BUF = bytearray()


def read_messages(block):
    """Complete JSON lines from the plugin; EOF ends the zygote (the plugin is gone)."""
    msgs = []
    while True:
        nl = BUF.find(b"\n")
        if nl >= 0:
            line = bytes(BUF[:nl])
            del BUF[:nl + 1]
            msgs.append(json.loads(line))
            continue
        if msgs or not block:
            r, _, _ = select.select([CTL], [], [], 0)
            if not r:
                return msgs
        chunk = os.read(CTL, 1 << 20)
        if not chunk:
            os._exit(0)
        BUF.extend(chunk)


def send(msg):
    data = (json.dumps(msg, ensure_ascii=False) + "\n").encode()
    view = memoryview(data)
    while len(view):
        n = os.write(CTL, view)
        view = view[n:]


def main():
    config = json.loads(sys.argv[1])
    os.set_blocking(CTL, True)
    LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    global LANDLOCK
    LANDLOCK = Landlock(config["read_only"], config.get("read_write_files", []))
    z = Zygote(config)
    z.finished = None
    z.prepare()
    # Nothing allocated from here on is garbage a run's copy-on-write pages should pay for.
    gc.collect()
    gc.freeze()
    send({"t": "ready", "pid": os.getpid(), "cgroup_mode": z.mode, "landlock_abi": LANDLOCK.abi})
    while True:
        msgs = PENDING[:] or read_messages(block=True)
        PENDING.clear()
        # A cancel can arrive before its run is read (in the same batch, or while idle): remember it.
        CANCELLED.update(m.get("id") for m in msgs if m.get("t") == "cancel")
        for msg in msgs:
            if msg.get("t") != "run":
                continue
            if msg["id"] in CANCELLED:
                CANCELLED.discard(msg["id"])
                send({"t": "done", "id": msg["id"], "limit": "cancelled", "exit_code": None, "signal": None})
                continue
            try:
                reply = z.run(msg)
            except Exception as e:  # a fault of the zygote itself: report it, stay up
                reply = {"t": "error", "id": msg.get("id"), "message": "%s: %s" % (type(e).__name__, e)}
            send(reply)
            CANCELLED.discard(msg.get("id"))
            if z.finished:
                cleanup(*z.finished)
                z.finished = None
            try:
                z.prepare()
            except OSError as e:  # e.g. the layer's own pids limit reached: the next request tries again
                print("compute-script zygote: cannot prepare the next run: %s" % e, file=sys.stderr, flush=True)
                z.warm = None


if __name__ == "__main__":
    main()

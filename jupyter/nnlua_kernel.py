"""The nnlua Jupyter kernel: a wrapper kernel (ipykernel's Kernel) that
drives one long-lived `nnlua --kernel` process.

The nnlua process runs every cell in one Lua state, in order. It reads
requests and writes replies as frames on two pipes (the protocol is
described at the top of stdlib/nnlua/kernel.lua); the cells' stdout and
stderr come on two more pipes and are sent to the notebook as they arrive.
Before handling a reply frame the streams are emptied; nnlua flushes them
before it writes a frame and waits for an ack after a figure or a progress
bar update, so prints, figures and the bar keep their order.

Interrupt (the notebook's stop button): Jupyter sends SIGINT to this
process; while a cell runs it is passed on to nnlua's process group, where
it raises "interrupted!" in the running Lua code and the state is kept. If
nnlua ends (os.exit, a second interrupt while stuck in C, a crash), the cell
reports it and a fresh nnlua is started.

The path of the nnlua binary is in the environment variable NNLUA, which
the kernel.json written by `make install-kernel` sets.
"""

import base64
import codecs
import fcntl
import os
import select
import signal
import subprocess
import sys

from ipykernel.kernelbase import Kernel

STREAMS = ("stdout", "stderr")


class NNLuaProcess:
    """One `nnlua --kernel` process and its four pipes."""

    def __init__(self, binary):
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        env = dict(os.environ)
        env["NNLUA_KERNEL_FDS"] = "%d,%d" % (req_r, rep_w)
        if env.get("NNLUA_PROGRESS") != "0":
            env["NNLUA_PROGRESS"] = "notebook"
        self.proc = subprocess.Popen(
            [binary, "--kernel"], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(req_r, rep_w), env=env, start_new_session=True)
        os.close(req_r)
        os.close(rep_w)
        self.req = req_w
        self.rep = rep_r
        self.rep_buf = b""
        self.fds = {"stdout": self.proc.stdout.fileno(),
                    "stderr": self.proc.stderr.fileno()}
        self.decoders = {}
        for name, fd in self.fds.items():
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
            self.decoders[name] = codecs.getincrementaldecoder("utf-8")("replace")
        self.open_streams = set(STREAMS)

    def send(self, kind, payload=b"", arg=0):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        os.write(self.req, b"%s %d %d\n" % (kind.encode(), arg, len(payload)))
        view = memoryview(payload)
        while view:
            n = os.write(self.req, view)
            view = view[n:]

    def drain(self, emit):
        """Sends what the stream pipes hold now to emit(name, text)."""
        for name in STREAMS:
            if name not in self.open_streams:
                continue
            chunks = []
            while True:
                try:
                    data = os.read(self.fds[name], 65536)
                except BlockingIOError:
                    break
                if not data:
                    self.open_streams.discard(name)
                    break
                chunks.append(data)
            if chunks:
                text = self.decoders[name].decode(b"".join(chunks))
                if text:
                    emit(name, text)

    def _frame(self):
        """A whole frame from rep_buf, or None."""
        nl = self.rep_buf.find(b"\n")
        if nl < 0:
            return None
        kind, arg, length = self.rep_buf[:nl].decode().split(" ")
        end = nl + 1 + int(length)
        if len(self.rep_buf) < end:
            return None
        payload = self.rep_buf[nl + 1:end]
        self.rep_buf = self.rep_buf[end:]
        return kind, int(arg), payload

    def frames(self, emit):
        """Yields reply frames as they come, sending stream text to emit on
        the way; returns when the reply pipe closes (nnlua ended)."""
        while True:
            frame = self._frame()
            if frame is not None:
                self.drain(emit)
                yield frame
                continue
            fds = [self.rep] + [self.fds[n] for n in self.open_streams]
            ready, _, _ = select.select(fds, [], [])
            if self.rep in ready:
                data = os.read(self.rep, 65536)
                if not data:
                    self.drain(emit)
                    return
                self.rep_buf += data
            self.drain(emit)

    def interrupt(self):
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
        except OSError:
            pass

    def end_status(self):
        """How the process ended, as words."""
        code = self.proc.wait()
        if code < 0:
            try:
                return "was killed by %s" % signal.Signals(-code).name
            except ValueError:
                return "was killed by signal %d" % -code
        return "exited with status %d" % code

    def close(self):
        for fd in (self.req, self.rep):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class NNLuaKernel(Kernel):
    implementation = "nnlua"
    implementation_version = "0.1"
    language = "lua"
    language_version = "5.4"
    language_info = {
        "name": "lua",
        "version": "5.4",
        "mimetype": "text/x-lua",
        "file_extension": ".lua",
        "codemirror_mode": "lua",
        "pygments_lexer": "lua",
    }
    banner = "nnlua: neural networks in Lua"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.binary = os.environ.get("NNLUA", "nnlua")
        self.silent = False
        self.nnlua = None
        self._start()

    def _start(self):
        """Starts nnlua; returns what went wrong if it failed to start."""
        try:
            self.nnlua = NNLuaProcess(self.binary)
        except OSError as e:
            self.nnlua = None
            return "cannot start nnlua (%s): %s" % (self.binary, e)
        lost = []
        for kind, _, payload in self.nnlua.frames(lambda n, t: lost.append(t)):
            if kind == "ready":
                self.language_version = payload.decode()
                return None
        text = "".join(lost)
        status = self.nnlua.end_status()
        self.nnlua.close()
        self.nnlua = None
        return "nnlua (%s) did not start: it %s\n%s" % (self.binary, status, text)

    # ---- output to the notebook

    def _stream(self, name, text):
        if not self.silent:
            self.send_response(self.iopub_socket, "stream", {"name": name, "text": text})

    def _display(self, image, gif):
        if self.silent:
            return
        mime, text = ("image/gif", "<Animation>") if gif else ("image/png", "<Figure>")
        content = {"data": {mime: base64.b64encode(image).decode("ascii"),
                            "text/plain": text},
                   "metadata": {}}
        self.send_response(self.iopub_socket, "display_data", content)

    def _progress(self, text, how):
        """The progress bar: "\r" and the text on stderr, which the notebook
        shows in place of the line before; how: 0 update, 1 finished, 2 the
        line of an unfinished bar ends."""
        if how == 2:
            self._stream("stderr", "\n")
        else:
            self._stream("stderr", "\r" + text + ("\n" if how == 1 else ""))

    def _error(self, message):
        lines = message.split("\n")
        first = lines[0]
        if not self.silent:
            self.send_response(self.iopub_socket, "error", {
                "ename": "Error", "evalue": first, "traceback": lines})
        return {"status": "error", "execution_count": self.execution_count,
                "ename": "Error", "evalue": first, "traceback": lines}

    # ---- requests

    def do_execute(self, code, silent, store_history=True, user_expressions=None,
                   allow_stdin=False):
        self.silent = silent
        if self.nnlua is None:
            failed = self._start()
            if failed:
                return self._error(failed)
        interrupted = []

        def on_sigint(signum, frame):
            interrupted.append(True)
            self.nnlua.interrupt()

        old = signal.signal(signal.SIGINT, on_sigint)
        try:
            self.nnlua.send("execute", code, self.execution_count)
            for kind, arg, payload in self.nnlua.frames(self._stream):
                if kind == "display":
                    self._display(payload, arg == 1)
                    self.nnlua.send("ack")
                elif kind == "progress":
                    self._progress(payload.decode("utf-8", "replace"), arg)
                    self.nnlua.send("ack")
                elif kind == "result":
                    if not silent:
                        self.send_response(self.iopub_socket, "execute_result", {
                            "execution_count": self.execution_count,
                            "data": {"text/plain": payload.decode("utf-8", "replace")},
                            "metadata": {}})
                    return self._ok()
                elif kind == "ok":
                    return self._ok()
                elif kind == "error":
                    return self._error(payload.decode("utf-8", "replace"))
            # the reply pipe closed: nnlua ended during the cell
            status = self.nnlua.end_status()
            self.nnlua.close()
            self.nnlua = None
            failed = self._start()
            return self._error(
                "nnlua %s during this cell; the notebook's variables are lost, "
                "a fresh nnlua was started%s" % (status, "\n" + failed if failed else ""))
        finally:
            signal.signal(signal.SIGINT, old)

    def _ok(self):
        return {"status": "ok", "execution_count": self.execution_count,
                "payload": [], "user_expressions": {}}

    def _ask(self, kind, payload, want):
        if self.nnlua is None:
            return None
        self.nnlua.send(kind, payload)
        for k, _, reply in self.nnlua.frames(lambda name, text: None):
            if k == want:
                return reply.decode("utf-8", "replace")
        return None

    def do_complete(self, code, cursor_pos):
        reply = self._ask("complete", code[:cursor_pos], "matches")
        matches, start = [], cursor_pos
        if reply is not None:
            lines = reply.split("\n")
            word, matches = lines[0], [m for m in lines[1:] if m]
            start = cursor_pos - len(word)
        return {"status": "ok", "matches": matches, "cursor_start": start,
                "cursor_end": cursor_pos, "metadata": {}}

    def do_inspect(self, code, cursor_pos, detail_level=0, omit_sections=()):
        name = word_at(code, cursor_pos)
        text = self._ask("inspect", name, "help") if name else None
        found = bool(text)
        return {"status": "ok", "found": found,
                "data": {"text/plain": text} if found else {}, "metadata": {}}

    def do_shutdown(self, restart):
        if self.nnlua is not None:
            self.nnlua.close()
            self.nnlua = None
        return {"status": "ok", "restart": restart}


def word_at(code, pos):
    """The dotted name around pos ("tensor.randn" in "x = tensor.ra|ndn(2)"),
    or the one just before an opening parenthesis there."""
    def is_word(c):
        return c.isalnum() or c in "_.:"
    if pos > 0 and pos <= len(code) and code[pos - 1] == "(":
        pos -= 1
    start = pos
    while start > 0 and is_word(code[start - 1]):
        start -= 1
    end = pos
    while end < len(code) and is_word(code[end]):
        end += 1
    return code[start:end].strip(".:")


def install(argv):
    """install NNLUA [PREFIX]: registers this kernel with Jupyter as "nnlua",
    for the user (no PREFIX) or under PREFIX/share/jupyter/kernels."""
    import json
    import shutil
    import tempfile
    from jupyter_client.kernelspec import KernelSpecManager
    if len(argv) not in (1, 2):
        sys.exit("usage: nnlua_kernel.py install /path/to/nnlua [prefix]")
    binary = os.path.abspath(argv[0])
    if not os.access(binary, os.X_OK):
        sys.exit("nnlua_kernel.py install: %s is not an executable (run make first)" % binary)
    spec = {
        "argv": [sys.executable, "-Xfrozen_modules=off", os.path.abspath(__file__), "-f", "{connection_file}"],
        "display_name": "nnlua",
        "language": "lua",
        "interrupt_mode": "signal",
        "env": {"NNLUA": binary},
    }
    tmp = tempfile.mkdtemp()
    try:
        folder = os.path.join(tmp, "nnlua")
        os.mkdir(folder)
        with open(os.path.join(folder, "kernel.json"), "w") as f:
            json.dump(spec, f, indent=1)
            f.write("\n")
        prefix = os.path.abspath(argv[1]) if len(argv) == 2 else None
        dest = KernelSpecManager().install_kernel_spec(
            folder, "nnlua", user=prefix is None, prefix=prefix)
    finally:
        shutil.rmtree(tmp)
    print("installed the nnlua kernel in %s (nnlua: %s)" % (dest, binary))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "install":
        install(sys.argv[2:])
    else:
        from ipykernel.kernelapp import IPKernelApp
        IPKernelApp.launch_instance(kernel_class=NNLuaKernel)

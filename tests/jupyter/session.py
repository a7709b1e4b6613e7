"""What a notebook does that nbconvert cannot: the stop button, Tab, Shift-Tab,
and a cell that ends nnlua. Drives the installed "nnlua" kernel through
jupyter_client (tests/lua/test_jupyter.lua runs it with a temporary
JUPYTER_PATH); prints one line per check and exits 1 at the first failure.
With --repl (nnlua has the REPL's Lua half, stdlib/nnlua/repl.lua and
help.lua), also checks what the kernel takes from it: locals that last
from cell to cell, and help text for Shift-Tab."""

import sys
import threading
import time

from jupyter_client.manager import start_new_kernel


def main():
    km, kc = start_new_kernel(kernel_name="nnlua", startup_timeout=60)
    try:
        checks(km, kc)
        if "--repl" in sys.argv[1:]:
            repl_checks(km, kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run(kc, code, timeout=60, on_output=None):
    """(status, outputs) of one cell; outputs as (msg_type, content).
    on_output(msg_type, content) is called as each output arrives."""
    out = []

    def hook(msg):
        if msg["msg_type"] in ("stream", "execute_result", "display_data", "error"):
            out.append((msg["msg_type"], msg["content"]))
            if on_output:
                on_output(msg["msg_type"], msg["content"])
    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    return reply["content"]["status"], out


def text_of(outputs):
    parts = []
    for kind, c in outputs:
        if kind == "stream":
            parts.append(c["text"])
        elif kind == "execute_result":
            parts.append(c["data"]["text/plain"])
        elif kind == "error":
            parts.append("\n".join(c["traceback"]))
    return "".join(parts)


def check(what, cond, detail=""):
    if not cond:
        print("FAILED: %s %s" % (what, detail))
        sys.exit(1)
    print("ok: " + what)


def checks(km, kc):
    status, out = run(kc, "kept = 41\nlocal n = 1\nkept + n")
    check("a cell's last expression is its result", status == "ok" and text_of(out) == "42",
          repr(out))

    # interrupt: a busy Lua loop stops with "interrupted!", the state stays.
    # The stop is pressed once the cell says it runs (a timer could fire
    # before a slow machine starts the cell, when an interrupt is ignored).
    for code in ("while true do end",
                 "local t = tensor.zeros(100) while true do t = t + 1 end"):
        pressed = []

        def press(kind, content):
            if not pressed and kind == "stream" and "running" in content.get("text", ""):
                pressed.append(True)
                threading.Timer(0.2, km.interrupt_kernel).start()
        start = time.time()
        status, out = run(kc, 'print("running") ' + code, on_output=press)
        took = time.time() - start
        check("interrupt stops `%s`" % code,
              status == "error" and "interrupted!" in text_of(out) and took < 20,
              "%s %r after %.1f s" % (status, out, took))
        status, out = run(kc, "kept")
        check("the state is kept after an interrupt", text_of(out) == "41", repr(out))
        time.sleep(0.1)

    # an interrupt while no cell runs changes nothing
    km.interrupt_kernel()
    time.sleep(0.3)
    status, out = run(kc, "kept")
    check("an interrupt between cells is harmless", status == "ok" and text_of(out) == "41",
          repr(out))

    # Tab and Shift-Tab
    reply = kc.complete("x = tensor.ra", 13, reply=True, timeout=30)["content"]
    check("Tab completes module fields",
          "tensor.randn" in reply["matches"] and reply["cursor_start"] == 4, repr(reply))
    reply = kc.complete("ke", 2, reply=True, timeout=30)["content"]
    check("Tab completes the notebook's globals", "kept" in reply["matches"], repr(reply))
    reply = kc.inspect("tensor.randn(", 13, reply=True, timeout=30)["content"]
    check("Shift-Tab finds tensor.randn",
          reply["found"] and "randn" in reply["data"]["text/plain"], repr(reply))
    reply = kc.inspect("no_such_name", 5, reply=True, timeout=30)["content"]
    check("Shift-Tab on an unknown name finds nothing", not reply["found"], repr(reply))

    # a cell that ends nnlua: reported, and a fresh one takes over
    status, out = run(kc, 'print("bye") os.exit(3)')
    text = text_of(out)
    check("os.exit in a cell is reported",
          status == "error" and "bye" in text and "exited with status 3" in text, repr(out))
    status, out = run(kc, "kept")
    check("a fresh nnlua runs the next cell", status == "ok" and text_of(out) == "nil", repr(out))


def repl_checks(km, kc):
    run(kc, "local lasting = 7")
    status, out = run(kc, "lasting * 6")
    check("a cell's locals last into the next cell", text_of(out) == "42", repr(out))
    status, out = run(kc, "lasting = nil\nrawget(_G, 'lasting')")
    check("a lasting local is not a global", text_of(out) == "nil", repr(out))
    reply = kc.inspect("tensor.randn(", 13, reply=True, timeout=30)["content"]
    check("Shift-Tab shows the signature from the docs",
          reply["found"] and "tensor.randn(size" in reply["data"]["text/plain"], repr(reply))


if __name__ == "__main__":
    main()

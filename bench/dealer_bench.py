#!/usr/bin/python3
"""Times one-process-per-event dealers against a libzmq ROUTER that ACKs (see bench/README.md, "dealer")."""
import os
import statistics
import subprocess
import sys
import threading
import time

import zmq


def broker(router, counts):
    while True:
        try:
            frames = router.recv_multipart()
        except zmq.ContextTerminated:
            return
        counts[0] += 1
        router.send_multipart([frames[0], b"ACK"])


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def main():
    dealer, notification_path, runs, spool = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(notification_path, "rb") as f:
        notification = f.read()

    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    endpoint = "tcp://127.0.0.1:%d" % port
    counts = [0]
    threading.Thread(target=broker, args=(router, counts), daemon=True).start()

    env = dict(os.environ)
    env.update({"BONNIE_DEALER_BROKER": endpoint, "BONNIE_DEALER_SPOOL": spool,
                "BONNIE_DEALER_CONFIG": os.devnull})
    cyrus_args = ["-c", "MessageNew", "-p", "", "-u", "", "-m", "", "-f"]
    commands = {
        "bonnie-dealer (NativeAOT)": [dealer] + cyrus_args,
        "python3+pyzmq dealer": ["/usr/bin/python3", os.path.join(here, "python-dealer.py"), endpoint] + cyrus_args,
    }
    # The floor: what starting any process costs here, so the dealer's own share can be read off.
    commands["/bin/true (spawn floor)"] = ["/bin/true"]
    timings = {name: [] for name in commands}
    # Alternate the two so that a change in the machine's load hits both alike.
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, input=notification, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            timings[name].append((time.perf_counter() - start) * 1000.0)
            if done.stderr:
                sys.exit("%s wrote to stderr: %s" % (name, done.stderr.decode(errors="replace")))

    spooled = [n for n in os.listdir(spool)] if os.path.isdir(spool) else []
    if counts[0] != 2 * runs or spooled:
        sys.exit("broker got %d of %d events, %d spooled: not a clean run" % (counts[0], 2 * runs, len(spooled)))
    ours = statistics.median(timings["bonnie-dealer (NativeAOT)"])
    theirs = statistics.median(timings["python3+pyzmq dealer"])

    print("dealer bench: %d runs each, process start to exit, broker = libzmq ROUTER that ACKs" % runs)
    print("%-28s %10s %10s" % ("", "median ms", "p99 ms"))
    for name, values in timings.items():
        print("%-28s %10.2f %10.2f" % (name, statistics.median(values), percentile(values, 99)))
    print("ratio (python median / bonnie-dealer median): %.1fx" % (theirs / ours))
    context.destroy(linger=0)


if __name__ == "__main__":
    main()

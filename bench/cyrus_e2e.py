"""Driver for bench/cyrus-e2e.sh: see that script for what is measured. Standard library only."""
import email.utils
import imaplib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

DEALER, WEB, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
ACTIONS, STORES = int(sys.argv[4]), int(sys.argv[5])
PASSWORD = os.environ.get("BONNIE_CYRUS_PASSWORD", "bonnie-test")
IMAP_PORT = int(os.environ.get("BONNIE_CYRUS_IMAP_PORT", "1143"))
USER = "alice@example.org"
KEY = "bench-admin-key-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cyrus(notify, config=None):
    args = ["bash", "scripts/neighbours/cyrus.sh", "start", "--notify", notify]
    if config:
        args += ["--dealer-config", config]
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"cyrus.sh start failed ({run.returncode}): {run.stdout}{run.stderr}")
    print("  " + run.stdout.strip(), file=sys.stderr)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


ports = {name: free_port() for name in ("client", "worker", "controller", "collector", "http")}
env = dict(os.environ,
           ASPNETCORE_URLS=f"http://127.0.0.1:{ports['http']}",
           Bonnie__DataDirectory=os.path.join(WORK, "data"),
           Bonnie__Broker__ClientEndpoint=f"tcp://127.0.0.1:{ports['client']}",
           Bonnie__Broker__WorkerEndpoint=f"tcp://127.0.0.1:{ports['worker']}",
           Bonnie__Broker__ControllerEndpoint=f"tcp://127.0.0.1:{ports['controller']}",
           Bonnie__Broker__CollectorEndpoint=f"tcp://127.0.0.1:{ports['collector']}",
           Bonnie__Worker__WorkerEndpoint=f"tcp://127.0.0.1:{ports['worker']}",
           Bonnie__Worker__ControllerEndpoint=f"tcp://127.0.0.1:{ports['controller']}",
           Bonnie__Payloads__SpoolPartitions__0="/var/spool/cyrus/mail",
           Bonnie__ApiKeys__0__Name="bench", Bonnie__ApiKeys__0__Key=KEY, Bonnie__ApiKeys__0__Role="Administrator",
           Logging__LogLevel__Default="Warning")
log = open(os.path.join(WORK, "bonnie.log"), "w")
bonnie = subprocess.Popen(["dotnet", WEB], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=os.path.dirname(WEB))


def api(query):
    url = f"http://127.0.0.1:{ports['http']}/api/events?limit=5&q={urllib.parse.quote(query)}"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + KEY})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


try:
    for _ in range(300):
        try:
            api("event:Login")
            break
        except OSError:
            if bonnie.poll() is not None:
                raise SystemExit("Bonnie.Web exited:\n" + open(os.path.join(WORK, "bonnie.log")).read()[-3000:])
            time.sleep(0.2)
    else:
        raise SystemExit("Bonnie.Web did not answer within 60 s")
    state = os.environ.get("BONNIE_CYRUS_STATE", "/var/tmp/bonnie-test/cyrus")
    config = os.path.join(WORK, "dealer.conf")
    with open(config, "w") as f:
        f.write(f"broker = tcp://127.0.0.1:{ports['client']}\nspool = {state}/dealer/spool\n")

    def connect():
        imap = imaplib.IMAP4("127.0.0.1", IMAP_PORT)
        imap.login(USER, PASSWORD)
        return imap

    # 1. Action to searchable.
    print(f"latency: {ACTIONS} actions, each waited for in the API", file=sys.stderr)
    cyrus(DEALER, config)
    imap = connect()
    imap.select("INBOX")
    latencies = {"append": [], "store": []}
    last_uid = None
    for i in range(ACTIONS):
        mid = f"{uuid.uuid4().hex}@bench.bonnie.example"
        if i % 2 == 0 or last_uid is None:
            message = (f"From: bench@example.net\r\nTo: {USER}\r\nSubject: bench {i}\r\nMessage-ID: <{mid}>\r\n"
                       f"Date: {email.utils.formatdate()}\r\n\r\nbench\r\n").encode()
            start = time.monotonic()
            typ, data = imap.append("INBOX", None, None, message)
            query, kind = f"messageid:{mid} event:MessageAppend", "append"
            last_mid = mid
            last_uid = data[0].decode().split("APPENDUID ")[1].split()[1].rstrip("]")
        else:
            start = time.monotonic()
            imap.uid("STORE", last_uid, "+FLAGS", "(\\Flagged)")
            query, kind = f"messageid:{last_mid} event:FlagsSet", "store"
        while api(query)["total"] < 1:
            if time.monotonic() - start > 60:
                raise SystemExit(f"not searchable after 60 s: {query}")
            time.sleep(0.005)
        latencies[kind].append((time.monotonic() - start) * 1000)
    imap.logout()
    everything = latencies["append"] + latencies["store"]
    print(json.dumps({"latency_ms": {
        "actions": len(everything),
        "p50": round(statistics.median(everything), 1), "p95": round(pct(everything, 95), 1),
        "append_p50": round(statistics.median(latencies["append"]), 1), "append_p95": round(pct(latencies["append"], 95), 1),
        "store_p50": round(statistics.median(latencies["store"]), 1), "store_p95": round(pct(latencies["store"], 95), 1)}}))

    # 2. STOREs with the dealer against /bin/true, interleaved rounds, same Cyrus configuration otherwise.
    rounds = 4
    per_round = STORES // (rounds // 2)
    times = {"dealer": [], "true": []}
    print(f"stores: {STORES} with the dealer, {STORES} with /bin/true, in {rounds} rounds", file=sys.stderr)
    for r in range(rounds):
        mode = "dealer" if r % 2 == 0 else "true"
        cyrus(DEALER, config) if mode == "dealer" else cyrus("/bin/true")
        imap = connect()
        imap.select("INBOX")
        typ, data = imap.uid("SEARCH", None, "ALL")
        uid = data[0].split()[-1].decode()
        for i in range(per_round):
            flag = "+FLAGS" if i % 2 == 0 else "-FLAGS"
            start = time.perf_counter()
            imap.uid("STORE", uid, flag, "(\\Flagged)")
            times[mode].append((time.perf_counter() - start) * 1000)
        imap.logout()
    result = {}
    for mode, values in times.items():
        result[mode] = {"stores": len(values), "total_s": round(sum(values) / 1000, 2),
                        "p50_ms": round(statistics.median(values), 3), "p95_ms": round(pct(values, 95), 3)}
    result["ratio_total"] = round(result["dealer"]["total_s"] / result["true"]["total_s"], 2)
    print(json.dumps({"stores": result}))
finally:
    bonnie.terminate()
    bonnie.wait(timeout=30)

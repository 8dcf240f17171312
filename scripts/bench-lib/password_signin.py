"""Password sign-ins per second over loopback against a running Rampart, beside argon2-cffi
verifying the same kind of hash in the same run.

usage: password_signin.py BASE_URL SETUP_LINK EMAIL SLUG SECONDS WORKERS [set|keep] [SERVER_PID]

The setup link sets the person's password first (unless `keep`: a later run of the same bench). Each worker is its own process (a client
thread would compete for the GIL with the others): it loads the sign-in form for its CSRF
cookie, then posts the form, and counts 303 answers. The peer is argon2-cffi's
PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1), Rampart's defaults, verifying
in as many processes for as long. Prints one JSON line.

The clients share the cores with the server, while the peer has them to itself, so the
throughput ratio understates the server. With SERVER_PID, the CPU time each side spends per
operation is measured too (the server's from /proc, the peer's from its finished processes):
their ratio says what a sign-in costs beyond the hash, whatever the clients take.
"""
from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import re
import resource
import sys
import time
import urllib.parse

PASSWORD = "violet tractor evening 77"


def request(conn, method, path, body=None, cookie=None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.getheader("Set-Cookie") or "", response.read().decode()


def csrf_of(page):
    return re.search(r'name="csrf" value="([^"]*)"', page).group(1)


def set_password(base, link):
    url = urllib.parse.urlparse(link)
    conn = http.client.HTTPConnection(urllib.parse.urlparse(base).netloc)
    _, _, page = request(conn, "GET", f"{url.path}?{url.query}")
    token = urllib.parse.parse_qs(url.query)["token"][0]
    body = urllib.parse.urlencode({"token": token, "csrf": csrf_of(page), "password": PASSWORD, "password_confirm": PASSWORD})
    status, _, text = request(conn, "POST", "/console/setup", body)
    assert status == 303, (status, text[:500])


def sign_in_worker(base, email, slug, seconds, out):
    conn = http.client.HTTPConnection(urllib.parse.urlparse(base).netloc)
    _, cookie, page = request(conn, "GET", f"/o/{slug}/signin")
    csrf_cookie = cookie.split(";")[0]
    body = urllib.parse.urlencode({"csrf": csrf_of(page), "email": email, "password": PASSWORD})
    done = failed = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, _, _ = request(conn, "POST", f"/o/{slug}/signin", body, csrf_cookie)
        if status == 303:
            done += 1
        else:
            failed += 1
    out.put((done, failed))


def argon2_worker(seconds, out):
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    encoded = hasher.hash(PASSWORD)
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        hasher.verify(encoded, PASSWORD)
        done += 1
    out.put((done, 0))


def process_cpu_seconds(pid):
    """User plus system CPU time of a running process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(target, args, workers, seconds):
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=target, args=(*args, seconds, out)) for _ in range(workers)]
    start = time.monotonic()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.monotonic() - start
    done = sum(r[0] for r in results)
    return done / elapsed, sum(r[1] for r in results), done


def main():
    base, link, email, slug, seconds, workers = sys.argv[1:7]
    seconds, workers = float(seconds), int(workers)
    if (sys.argv[7] if len(sys.argv) > 7 else "set") == "set":
        set_password(base, link)
    server_pid = int(sys.argv[8]) if len(sys.argv) > 8 else None
    server_cpu = process_cpu_seconds(server_pid) if server_pid else 0.0
    ours, failed, sign_ins = run(sign_in_worker, (base, email, slug), workers, seconds)
    server_cpu = process_cpu_seconds(server_pid) - server_cpu if server_pid else 0.0
    peer_cpu = children_cpu_seconds()
    peer, _, verifies = run(argon2_worker, (), workers, seconds)
    peer_cpu = children_cpu_seconds() - peer_cpu
    result = {"signInsPerSecond": round(ours, 1), "failed": failed, "argon2cffiVerifiesPerSecond": round(peer, 1),
              "ratio": round(ours / peer, 2), "workers": workers}
    if server_pid:
        ms_per_sign_in = 1000 * server_cpu / sign_ins
        ms_per_verify = 1000 * peer_cpu / verifies
        result |= {"serverCpuMsPerSignIn": round(ms_per_sign_in, 2), "peerCpuMsPerVerify": round(ms_per_verify, 2),
                   "cpuRatio": round(ms_per_verify / ms_per_sign_in, 2)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

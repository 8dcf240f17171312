"""Password sign-ins per second over loopback against a running Rampart, beside argon2-cffi
verifying the same kind of hash in the same run.

usage: password_signin.py BASE_URL SETUP_LINK EMAIL SLUG SECONDS WORKERS [set|keep]

The setup link sets the person's password first (unless `keep`: a later run of the same bench). Each worker is its own process (a client
thread would compete for the GIL with the others): it loads the sign-in form for its CSRF
cookie, then posts the form, and counts 303 answers. The peer is argon2-cffi's
PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1), Rampart's defaults, verifying
in as many processes for as long. Prints one JSON line.
"""
from __future__ import annotations

import http.client
import json
import multiprocessing
import re
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
    return sum(r[0] for r in results) / elapsed, sum(r[1] for r in results)


def main():
    base, link, email, slug, seconds, workers = sys.argv[1:7]
    seconds, workers = float(seconds), int(workers)
    if (sys.argv[7] if len(sys.argv) > 7 else "set") == "set":
        set_password(base, link)
    ours, failed = run(sign_in_worker, (base, email, slug), workers, seconds)
    peer, _ = run(argon2_worker, (), workers, seconds)
    print(json.dumps({"signInsPerSecond": round(ours, 1), "failed": failed, "argon2cffiVerifiesPerSecond": round(peer, 1),
                      "ratio": round(ours / peer, 2), "workers": workers}))


if __name__ == "__main__":
    main()

"""SCIM provisioning through HTTP, as an identity provider's first cycle does it:
USERS users (POST /Users from THREADS connections), GROUPS groups (one of them given
BIG_GROUP members by PATCH in chunks of 1,000), then the time of one PATCH adding and one
removing 1,000 members of the large group, and the latency of `userName eq` and
`externalId eq` lookups. Prints one JSON object. Standard library only (http.client).

usage: scim_provision.py BASE_URL TOKEN USERS GROUPS BIG_GROUP THREADS
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

BASE, TOKEN = sys.argv[1], sys.argv[2]
USERS, GROUPS, BIG_GROUP, THREADS = (int(v) for v in sys.argv[3:7])
URL = urllib.parse.urlsplit(BASE)
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Client:
    def __init__(self):
        self.conn = http.client.HTTPConnection(URL.hostname, URL.port, timeout=120)

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        data = json.dumps(body) if body is not None else None
        for attempt in range(50):
            self.conn.request(method, URL.path + path, body=data, headers=HEADERS)
            response = self.conn.getresponse()
            raw = response.read()
            if response.status == 429:  # the per-token limit: wait as told, like an identity provider
                time.sleep(float(response.getheader("Retry-After", "1")))
                continue
            return response.status, (json.loads(raw) if raw else {})
        raise RuntimeError("rate limited 50 times in a row")


def provision_users() -> tuple[list[str], float]:
    ids: list[str] = [""] * USERS
    errors: list[str] = []

    def work(worker: int) -> None:
        client = Client()
        for i in range(worker, USERS, THREADS):
            name = f"user{i:06d}@bench.test"
            status, body = client.call("POST", "/Users", {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "externalId": f"ext-{i}",
                "name": {"givenName": "User", "familyName": f"{i:06d}"}, "active": True,
                "emails": [{"value": name, "type": "work", "primary": True}]})
            if status != 201:
                errors.append(f"{status} {body}")
                return
            ids[i] = body["id"]

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(w,)) for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"user creation failed: {errors[:3]}")
    return ids, elapsed


def patch_members(client: Client, group: str, op: str, members: list[str]) -> float:
    start = time.perf_counter()
    status, body = client.call("PATCH", f"/Groups/{group}?excludedAttributes=members", {
        "schemas": [PATCH], "Operations": [{"op": op, "path": "members", "value": [{"value": m} for m in members]}]})
    elapsed = time.perf_counter() - start
    if status != 200:
        raise SystemExit(f"PATCH {op} members failed: {status} {body}")
    return elapsed


def main() -> None:
    ids, user_seconds = provision_users()
    client = Client()
    start = time.perf_counter()
    groups = []
    for g in range(GROUPS):
        members = [{"value": ids[(g * 7 + k) % USERS]} for k in range(5)] if g else []
        status, body = client.call("POST", "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                        "displayName": f"group-{g:04d}", "members": members})
        if status != 201:
            raise SystemExit(f"group creation failed: {status} {body}")
        groups.append(body["id"])
    group_seconds = time.perf_counter() - start
    big = groups[0]
    start = time.perf_counter()
    for chunk in range(0, BIG_GROUP, 1000):
        patch_members(client, big, "add", ids[chunk:chunk + 1000])
    fill_seconds = time.perf_counter() - start
    extra = ids[BIG_GROUP:BIG_GROUP + 1000]
    add_seconds = patch_members(client, big, "add", extra)
    remove_seconds = patch_members(client, big, "remove", extra)
    status, body = client.call("GET", f"/Groups/{big}?attributes=displayName")
    assert status == 200

    def lookups(attribute: str, value) -> list[float]:
        times = []
        for _ in range(1000):
            i = random.randrange(USERS)
            start = time.perf_counter()
            status, body = client.call("GET", "/Users?filter=" + urllib.parse.quote(f'{attribute} eq "{value(i)}"'))
            times.append((time.perf_counter() - start) * 1000)
            if status != 200 or body["totalResults"] != 1:
                raise SystemExit(f"lookup failed: {status} {body}")
        return sorted(times)

    by_name = lookups("userName", lambda i: f"USER{i:06d}@bench.test")
    by_external = lookups("externalId", lambda i: f"ext-{i}")
    print(json.dumps({
        "users": USERS, "usersPerSecond": round(USERS / user_seconds), "userSeconds": round(user_seconds, 1),
        "groups": GROUPS, "groupsPerSecond": round(GROUPS / group_seconds),
        "bigGroupMembers": BIG_GROUP, "bigGroupFillSeconds": round(fill_seconds, 2),
        "patchAdd1000Ms": round(add_seconds * 1000, 1), "patchRemove1000Ms": round(remove_seconds * 1000, 1),
        "userNameEqP50Ms": round(by_name[499], 2), "userNameEqP99Ms": round(by_name[989], 2),
        "externalIdEqP50Ms": round(by_external[499], 2), "externalIdEqP99Ms": round(by_external[989], 2),
    }))


if __name__ == "__main__":
    main()

"""Peer baseline for audit append: Python's sqlite3 + hashlib writing the same kind of
hash-chained rows (length-prefixed SHA-256 chain, multi-row inserts, one transaction per
batch, WAL + synchronous=NORMAL). It shows what the storage layer costs over the floor
that SQLite itself sets. Prints one JSON line."""
import hashlib, json, os, sqlite3, struct, sys, tempfile, time, uuid

events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 500
path = os.path.join(tempfile.mkdtemp(prefix="peer-audit-"), "peer.sqlite")
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute("""CREATE TABLE audit_events (org_id TEXT, seq BIGINT, id TEXT, occurred_at BIGINT, action TEXT,
              outcome TEXT, actor_type TEXT, actor_id TEXT, actor_name TEXT, targets TEXT, details TEXT,
              prev_hash TEXT, hash TEXT, PRIMARY KEY (org_id, seq))""")
org = str(uuid.uuid4())
prev = "0" * 64
seq = 0

def field(h, s):
    b = s.encode()
    h.update(struct.pack(">I", len(b)))
    h.update(b)

start = time.perf_counter()
while seq < events:
    rows = []
    for _ in range(min(batch, events - seq)):
        seq += 1
        eid, now = str(uuid.uuid4()), time.time_ns() // 1000
        targets = json.dumps([{"type": "user", "id": str(uuid.uuid4()), "name": f"user{seq}@example.com"}],
                             separators=(",", ":"), sort_keys=True)
        details = json.dumps({"changes": {"displayName": {"before": f"Old {seq}", "after": f"New {seq}"}}},
                             separators=(",", ":"), sort_keys=True)
        h = hashlib.sha256()
        for part in ("rampart.audit.v1", org, str(seq), eid, str(now), "user.updated", "success", "api_token",
                     "bench", targets, details, prev):
            field(h, part)
        digest = h.hexdigest()
        rows.append((org, seq, eid, now, "user.updated", "success", "api_token", "t", "bench", targets, details,
                     prev, digest))
        prev = digest
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.execute("COMMIT")
elapsed = time.perf_counter() - start
print(json.dumps({"benchmark": "audit-append", "backend": "sqlite (python peer)", "events": events, "batch": batch,
                  "eventsPerSecond": int(events / elapsed)}))

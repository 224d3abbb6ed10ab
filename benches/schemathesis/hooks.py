"""schemathesis hooks for benches/schemathesis/run.sh.

POST /v1/ingest takes NDJSON (`application/x-ndjson`), a media type schemathesis has no
serializer for: the generated body (a string, as the schema says) is sent as UTF-8 text.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8", "surrogatepass")}
    # Negative cases may generate a non-string body: one JSON value on one line.
    return {"data": (json.dumps(value) + "\n").encode("utf-8")}

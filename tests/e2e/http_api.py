"""End-to-end check of the HTTP query API with Python's own HTTP client against a running
`weft serve`: a million-row result streams out while the server's memory stays flat.

Usage: python http_api.py HTTP_PORT SERVER_PID USER PASSWORD   (run by tests/e2e/run.sh).
"""
import base64
import http.client
import json
import sys

from checks import Checks, server_rss_kib

PORT, PID, USER, PASSWORD = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
check = Checks()


def a_million_rows_stream_with_bounded_server_memory():
    rows = 1_000_000
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    body = json.dumps({"statements": [{
        "statement": "UNWIND range(1, $n) AS i RETURN i, 'row number ' + toString(i) AS label",
        "parameters": {"n": rows}}]})
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    before = server_rss_kib(PID)
    peak = before
    connection.request("POST", "/db/neo4j/tx/commit", body=body,
                       headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200, response.status
    # Read the answer as it arrives (about 40 MB), sampling the server's memory meanwhile.
    received = bytearray()
    while chunk := response.read(1 << 20):
        received += chunk
        peak = max(peak, server_rss_kib(PID))
    connection.close()
    answer = json.loads(received)
    assert answer["errors"] == [], answer["errors"]
    data = answer["results"][0]["data"]
    assert len(data) == rows and data[-1]["row"] == [rows, f"row number {rows}"], len(data)
    growth_mib = (peak - before) / 1024
    assert growth_mib < 64, f"server memory grew by {growth_mib:.0f} MiB while a {len(received) >> 20} MB answer streamed"


check("HTTP: a million rows stream out with bounded server memory", a_million_rows_stream_with_bounded_server_memory)
print(f"e2e http: {check.passed} passed, 0 failed")

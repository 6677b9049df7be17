"""Many environments of a new function starting at once all get its code."""

import json
from concurrent.futures import ThreadPoolExecutor

SLOW = """
import time
def handler(event, context):
    time.sleep(0.3)  # keeps each environment busy, so every concurrent invoke needs one of its own
    return {"n": event["n"]}
"""


def test_concurrent_cold_starts_of_a_new_function(lam, make_function):
    files = {"app.py": SLOW, **{f"lib/module_{n}.py": "VALUE = 1\n" * 50 for n in range(300)}}
    make_function("burst", files=files)  # a package big enough that extracting it takes a while

    def invoke(n: int):
        response = lam.invoke(FunctionName="burst", Payload=json.dumps({"n": n}))
        return response["StatusCode"], response.get("FunctionError"), json.loads(response["Payload"].read())

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(invoke, range(10)))
    assert results == [(200, None, {"n": n}) for n in range(10)]

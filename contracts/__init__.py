"""The contract layer: what the kit emits for a program is judged by that program, at the pinned version, offline.

collect.py renders every config the kit ships (and the contract configs beside it) and gathers what each program
will read: vLLM's serve arguments, Dynamo's worker and frontend arguments, Triton's model config, the benchmark's
inference-perf config, the alert rules. run.py then sets up one cached environment per program family
(environments.py) and runs the checks in checks/ inside it, where the real parsers live.
"""

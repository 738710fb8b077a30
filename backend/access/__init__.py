"""Who is asking and what they may see: decided here, once, and read everywhere else.

- `caller.py`: the `Caller`, resolved once per request by `middleware.CallerMiddleware`.
- `facts.py`: the inputs of every decision (accounts, sessions, tokens, member maps), from MongoDB,
  with process copies trusted only while MongoDB's change stream reports every change to them.
- `policy.py`: the one function that decides a caller's access to a project.
"""

"""A stand-in for the ministry's national construction-market platform (全国建筑市场监管公共服务平台).

Its own process and its own SQLite file; standard library only, so it shares nothing with the portal but HTTP.
Run it with `python -m simulator --help`; its API is described in docs/national-api.md.
"""

"""A ten-line client for `rolegraph serve`: stream a graph's answer with the official openai client.

    rolegraph serve examples/graphs/search_local.yaml --port 8080      # in one terminal
    python examples/serve_client.py "Who discovered penicillin?"      # in another

A server started with `--api-key-env NAME` takes the key from your environment: pass the same variable's
name, `--api-key-env NAME` (the key itself is never an argument, so it stays out of shell history and `ps`).
"""

import argparse
import os
import sys

from openai import APIConnectionError, APIStatusError, OpenAI

EXIT_USER_ERROR = 2


def ask(question: str, base_url: str = "http://127.0.0.1:8080/v1", model: str = "search_local",
        api_key: str = "none") -> str:
    client = OpenAI(base_url=base_url, api_key=api_key)  # "none": a server started without --api-key-env
    text = ""
    for chunk in client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}],
                                                stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
            print(chunk.choices[0].delta.content, end="", flush=True)
    print()
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="*", help="default: Who discovered penicillin?")
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1", help="the server's /v1 URL")
    parser.add_argument("--model", default="search_local", help="the served graph's model id")
    parser.add_argument("--api-key-env", metavar="NAME", help="the variable holding the server's key (its name)")
    args = parser.parse_args()
    key = os.environ.get(args.api_key_env, "") if args.api_key_env else "none"
    if not key:
        print(f"error: --api-key-env {args.api_key_env}: the environment variable is not set or empty", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    try:
        ask(" ".join(args.question) or "Who discovered penicillin?", base_url=args.base_url, model=args.model,
            api_key=key)
    except APIStatusError as exc:  # the server's own reason (a wrong --model: the ids it serves), in one line
        reason = exc.body.get("message") if isinstance(exc.body, dict) else None
        print(f"error: {args.base_url}: HTTP {exc.status_code}: {reason or exc.message}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except APIConnectionError as exc:
        print(f"error: {args.base_url}: cannot connect ({exc.__cause__ or exc}); is `rolegraph serve` running?",
              file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)

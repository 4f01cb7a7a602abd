"""A home-assistant loop on the default model: the model picks a tool call (constrained to the
tools' schemas), the script runs it and feeds the result back, and the model answers.

    python examples/home_assistant.py "Turn on the kitchen light"   [--model PATH]
"""
from __future__ import annotations

import argparse
import datetime
import json

import pyllama_edge as ple

LIGHTS = {"kitchen": False, "bedroom": False, "hall": False}
TOOLS = [
    {"type": "function", "function": {
        "name": "set_light", "description": "Turn the light of a room on or off",
        "parameters": {"type": "object", "properties": {"room": {"enum": sorted(LIGHTS)}, "on": {"type": "boolean"}},
                       "required": ["room", "on"]}}},
    {"type": "function", "function": {
        "name": "get_time", "description": "The current local time", "parameters": {"type": "object", "properties": {}}}},
]


def set_light(room: str, on: bool) -> str:
    LIGHTS[room] = on
    return f"the {room} light is now {'on' if on else 'off'}"


def get_time() -> str:
    return datetime.datetime.now().strftime("%H:%M")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("request", nargs="?", default="Turn on the kitchen light")
    ap.add_argument("--model", help="a GGUF file (default: the default model, fetched on first use)")
    args = ap.parse_args()
    model = ple.Model(args.model) if args.model else ple.Model.default()
    messages = [{"role": "system", "content": "You control the lights of a home."},
                {"role": "user", "content": args.request}]
    reply = model.create_chat_completion(messages, tools=TOOLS, tool_choice="required", temperature=0.3)
    message = reply["choices"][0]["message"]
    messages.append(message)
    for call in message["tool_calls"]:
        name, arguments = call["function"]["name"], json.loads(call["function"]["arguments"])
        result = set_light(**arguments) if name == "set_light" else get_time()
        print(f"tool {name}({arguments}) -> {result}")
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    answer = model.create_chat_completion(messages, tools=TOOLS, tool_choice="none", max_tokens=60, temperature=0.3)
    print("assistant:", answer["choices"][0]["message"]["content"])


if __name__ == "__main__":
    main()

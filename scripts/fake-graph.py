"""A fake Microsoft Graph and Entra ID token endpoint on 127.0.0.1, for scripts/deploy-check.

  fake-graph.py --tenant T --client-id C --secret-file F --port-file P [--lifetime SECONDS]

POST /T/oauth2/v2.0/token answers the access token in $FAKE_GRAPH_ACCESS_TOKEN to a
client_credentials request of client C with the secret in F and the scope {this origin}/.default;
GET /beta/security/rules/detectionRules/r1 answers a rule to that bearer token; anything else is
404 with Graph's error body. Binds a port the kernel picks and writes it to P; exits by itself
after --lifetime seconds. One line per request on stderr (never a header or a body). Stdlib only.
"""

import argparse
import datetime
import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

RULES = {"r1": {"id": "r1", "displayName": "Rule one"}}
RULE_PATH = "/beta/security/rules/detectionRules/"


def graph_error(status, code, message):
    """Graph's error body, with the innerError a support case quotes."""
    inner = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
             "request-id": str(uuid.uuid4())}
    return status, {"error": {"code": code, "message": message, "innerError": inner}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Graph; every answer has a Content-Length
    settings = None  # the parsed arguments and the access token, set in main()

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if isinstance(body.get("error"), dict):
            self.send_header("request-id", body["error"]["innerError"]["request-id"])
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        # Read whole even when unused: on a kept-alive connection the next request follows it.
        return self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()

    def not_found(self):
        self.answer(*graph_error(404, "itemNotFound", f"Resource not found for the segment {self.path!r}."))

    def do_POST(self):
        form = {key: values[0] for key, values in parse_qs(self.body()).items()}
        settings = self.settings
        if urlsplit(self.path).path != f"/{settings.tenant}/oauth2/v2.0/token":
            return self.not_found()
        with open(settings.secret_file, encoding="utf-8") as file:
            secret = file.read().strip()
        scope = f"http://127.0.0.1:{self.server.server_port}/.default"
        if form.get("grant_type") != "client_credentials" or form.get("scope") != scope:
            return self.answer(400, {"error": "invalid_request", "error_description": "AADSTS900144: bad request"})
        if form.get("client_id") != settings.client_id or form.get("client_secret") != secret:
            return self.answer(401, {"error": "invalid_client",
                                     "error_description": "AADSTS7000215: Invalid client secret provided."})
        return self.answer(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                 "access_token": settings.access_token})

    def do_GET(self):
        path = urlsplit(self.path).path
        if not path.startswith(RULE_PATH):
            return self.not_found()
        if self.headers.get("Authorization") != f"Bearer {self.settings.access_token}":
            return self.answer(*graph_error(401, "InvalidAuthenticationToken", "Access token validation failure."))
        rule = RULES.get(unquote(path[len(RULE_PATH):]))
        return self.answer(200, rule) if rule else self.not_found()

    def do_other(self):
        self.body()
        self.not_found()

    do_PUT = do_PATCH = do_DELETE = do_other


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--lifetime", type=float, default=300)
    settings = parser.parse_args()
    settings.access_token = os.environ["FAKE_GRAPH_ACCESS_TOKEN"]
    Handler.settings = settings
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(f"{settings.port_file}.tmp", "w", encoding="utf-8") as file:
        file.write(f"{server.server_port}\n")
    os.replace(f"{settings.port_file}.tmp", settings.port_file)
    threading.Timer(settings.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()

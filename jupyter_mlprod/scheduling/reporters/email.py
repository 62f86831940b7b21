"""E-mail reporter over SMTP: host, port, TLS (starttls | ssl | none), user; the password is read
from the environment variable named in `password_env` when sending, never stored."""
from __future__ import annotations

import re
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .. import messages
from .base import ReporterType, ReportError, env_name_problem
from .templates import check_template, render

TLS = {"starttls": 587, "ssl": 465, "none": 25}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


class EmailReporter(ReporterType):
    kind = "email"
    keys = ("type", "when", "to", "from", "host", "port", "tls", "user", "password_env",
            "subject", "template")

    def normalize(self, raw, field, ctx):
        from ..scenarios import number

        problems = ctx.problems
        to = raw.get("to")
        if isinstance(to, str):
            to = [a.strip() for a in to.split(",") if a.strip()]
        if not isinstance(to, list) or not to:
            problems.error(f"{field}.to", "to must list at least one e-mail address")
            to = []
        for i, address in enumerate(to):
            if not isinstance(address, str) or not _ADDRESS.match(address):
                problems.error(f"{field}.to[{i}]", f"{address!r} is not an e-mail address")
        sender = raw.get("from", f"mlprod@{socket.gethostname()}")
        if not isinstance(sender, str) or not _ADDRESS.search(sender.split("<")[-1].rstrip(">")):
            problems.error(f"{field}.from", f"{sender!r} is not an e-mail address")
        host = raw.get("host")
        if not isinstance(host, str) or not host.strip() or "/" in host:
            problems.error(f"{field}.host", "host must be the SMTP server's name, e.g. "
                           "smtp.example.com")
        tls = raw.get("tls", "starttls")
        if tls not in TLS:
            problems.error(f"{field}.tls", f"tls must be one of {', '.join(TLS)}, not {tls!r}")
            tls = "starttls"
        port = number(raw, "port", field, problems, TLS[tls], 1, 65535)
        out = {"type": "email", "to": to, "from": sender, "host": host, "port": port, "tls": tls}
        user, password_env = raw.get("user"), raw.get("password_env")
        if user is not None:
            if not isinstance(user, str) or not user:
                problems.error(f"{field}.user", "user must be the SMTP login name")
            out["user"] = user
            if password_env is None:
                problems.error(f"{field}.password_env", "a user needs a password: name the "
                               "environment variable that holds it in password_env")
        if password_env is not None:
            problem = env_name_problem(password_env)
            if problem:
                problems.error(f"{field}.password_env", f"password_env {problem}")
            else:
                out["password_env"] = password_env
                if not ctx.environ.get(password_env):
                    problems.warn(f"{field}.password_env", f"the environment variable "
                                  f"{password_env} is not set here; the scheduler's environment "
                                  "must define it")
        for key in ("subject", "template"):
            if key in raw:
                check_template(raw[key], f"{field}.{key}", problems)
                out[key] = raw[key]
        return out

    def describe(self, spec):
        return f"e-mail to {', '.join(spec['to'])}"

    def send(self, spec, report, environ, timeout):
        password = None
        if spec.get("password_env"):
            password = environ.get(spec["password_env"])
            if not password:
                raise ReportError(f"the environment variable {spec['password_env']} (SMTP "
                                  "password) is not set")
        message = EmailMessage()
        message["Subject"] = messages.email_subject(report, spec.get("subject"))
        message["From"] = spec["from"]
        message["To"] = ", ".join(spec["to"])
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="mlprod")
        message.set_content(render(spec["template"], messages.values(report))
                            if spec.get("template") else report["text"])
        where = f"{spec['host']}:{spec['port']}"
        try:
            if spec["tls"] == "ssl":
                client = smtplib.SMTP_SSL(spec["host"], spec["port"], timeout=timeout,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(spec["host"], spec["port"], timeout=timeout)
            with client:
                if spec["tls"] == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if spec.get("user"):
                    client.login(spec["user"], password)
                refused = client.send_message(message)
            if refused:
                raise ReportError(f"{where} refused {', '.join(refused)}", retry=False)
        except smtplib.SMTPAuthenticationError as exc:
            raise ReportError(f"{where} refused the login of {spec.get('user')}: "
                              f"{exc.smtp_code} {_text(exc.smtp_error)}", retry=False) from None
        except smtplib.SMTPResponseException as exc:
            raise ReportError(f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                              retry=exc.smtp_code >= 400 and exc.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise ReportError(f"cannot send through {where}: {exc}") from None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

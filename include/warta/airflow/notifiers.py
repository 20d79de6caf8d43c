"""Alert delivery through Airflow's notifiers and maintained providers:

- email: ``SmtpNotifier`` (apache-airflow-providers-smtp) on the SMTP Connection
  ``warta_smtp`` (host, port, login/password; extra ``from_email``, ``disable_tls``,
  ``disable_ssl``);
- chat: ``AppriseNotifier`` (apache-airflow-providers-apprise) on the Apprise Connection
  ``warta_chat``, whose extra ``config`` lists the chat targets, each with a tag
  (``[{"path": "tgram://BOT_TOKEN/CHAT_ID", "tag": "operator"}, ...]``); a user's
  ``chat_tag`` in users.yaml picks the target.

The notifiers are called directly with an empty context instead of through
``BaseNotifier.__call__``: that would render the fields as Jinja templates, and an alert's
text carries people's titles, which must never be evaluated as templates.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import apprise
from airflow.providers.apprise.notifications.apprise import AppriseNotifier
from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from warta.alerts import Notification
from warta.config import WartaConfig


class ChatDeliveryError(RuntimeError):
    pass


class CheckedAppriseNotifier(AppriseNotifier):
    """AppriseNotifier that raises when no chat target accepted the message.

    The provider's hook drops Apprise's result, so a wrong tag or an unreachable chat
    service would pass silently; an alert must know whether it was delivered."""

    def notify(self, context) -> None:
        client = apprise.Apprise()
        self.hook.set_config_from_conn(conn=self.hook.get_connection(self.apprise_conn_id), apprise_obj=client)
        result = client.notify(
            body=self.body, title=self.title or "", notify_type=self.notify_type, body_format=self.body_format,
            tag=self.tag, attach=self.attach, interpret_escapes=self.interpret_escapes,
        )
        if not result:
            raise ChatDeliveryError(
                f"no chat target tagged {self.tag!r} in connection {self.apprise_conn_id!r} accepted the message "
                f"({getattr(result, 'status', result)})"
            )


def email_html(notification: Notification) -> str:
    body = html.escape(notification.text).replace("\n", "<br>\n")
    link = html.escape(notification.link, quote=True)
    return (f"<html><body><p>{body}</p>"
            + (f'<p><a href="{link}">Buka di desk Warta</a></p>' if link else "")
            + "</body></html>")


@dataclass
class AirflowNotifierSender:
    """The NotificationSender of a running Warta: Airflow notifiers on Airflow Connections."""

    smtp_conn_id: str = "warta_smtp"
    chat_conn_id: str = "warta_chat"
    email_from: str | None = None

    @classmethod
    def from_config(cls, config: WartaConfig) -> AirflowNotifierSender:
        levels = config.service_levels
        return cls(smtp_conn_id=levels.smtp_conn_id, chat_conn_id=levels.chat_conn_id,
                   email_from=levels.email_from or None)

    def notifier_for(self, notification: Notification):
        if notification.channel == "email":
            return SmtpNotifier(
                to=[notification.address], from_email=self.email_from, subject=notification.subject,
                html_content=email_html(notification), smtp_conn_id=self.smtp_conn_id,
            )
        if notification.channel == "chat":
            return CheckedAppriseNotifier(
                title=notification.subject, body=f"{notification.text}", tag=notification.address,
                apprise_conn_id=self.chat_conn_id,
            )
        raise ValueError(f"unknown notification channel {notification.channel!r}")

    def send(self, notification: Notification) -> None:
        self.notifier_for(notification).notify({})

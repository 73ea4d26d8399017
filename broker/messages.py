"""Page strings: key -> (Chinese, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "app.name": ("通行 · 统一身份认证", "Tongxing · Unified Sign-in"),
    "lang.switch": ("English", "中文"),
    "error.title": ("出错了", "Something went wrong"),
    "error.back": ("返回", "Go back"),
    "error.not_found": ("页面不存在", "Page not found"),
    "error.internal": ("服务器内部错误，请稍后再试", "Internal error, please try again later"),
    "error.csrf": ("页面已过期，请刷新后重试", "The page has expired; reload it and try again"),
    "error.method": ("不支持该请求方法", "Method not allowed"),
}
MESSAGES.update({
    "dev.outbox": ("开发发件箱（仅演示模式）", "Dev outbox (demo mode only)"),
    "dev.recipient": ("收件人", "Recipient"),
    "dev.body": ("内容", "Message"),
    "dev.time": ("时间", "Time"),
    "dev.empty": ("暂无消息", "No messages yet"),
})

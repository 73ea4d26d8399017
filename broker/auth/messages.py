"""Page strings of the local-account pages: key -> (Chinese, English). Merged into MESSAGES."""

AUTH_MESSAGES: dict[str, tuple[str, str]] = {
    # titles and tabs
    "auth.login.title": ("登录", "Sign in"),
    "auth.login.tab_password": ("密码登录", "Password"),
    "auth.login.tab_sms": ("短信验证码登录", "SMS code"),
    "auth.register.title": ("注册账号", "Create an account"),
    "auth.forgot.title": ("找回密码", "Reset your password"),
    "auth.forgot.done_title": ("密码已重置", "Password reset"),
    "auth.forgot.done": ("密码已重置，请使用新密码登录。其他设备上的登录已全部退出。",
                         "Your password has been reset. Sign in with the new password; "
                         "every other session has been signed out."),
    "auth.account.title": ("我的账号", "My account"),
    # fields
    "auth.field.identifier": ("用户名 / 手机号 / 邮箱 / 统一社会信用代码",
                              "Username, phone, email or unified social credit code"),
    "auth.field.username": ("用户名", "Username"),
    "auth.field.password": ("密码", "Password"),
    "auth.field.new_password": ("新密码", "New password"),
    "auth.field.phone": ("手机号", "Phone number"),
    "auth.field.code": ("短信验证码", "SMS code"),
    "auth.field.captcha": ("图形验证码", "Image captcha"),
    "auth.field.kind": ("用户类型", "User type"),
    "auth.field.action": ("操作", "Action"),
    "auth.field.tab": ("登录方式", "Sign-in method"),
    "auth.field.next": ("跳转地址", "Return address"),
    "auth.kind.personal": ("个人用户", "Personal user"),
    "auth.kind.enterprise": ("企业用户", "Enterprise user"),
    "auth.kind.staff": ("工作人员", "Staff"),
    "auth.captcha.alt": ("图形验证码，看不清请点击刷新页面", "Image captcha; reload the page for a new one"),
    "auth.captcha.refresh": ("换一张", "New image"),
    "auth.password.hint": ("至少 8 位，包含小写字母、大写字母、数字、符号中的至少三类",
                           "At least 8 characters, with three of: lower case, upper case, digits, symbols"),
    # buttons and links
    "auth.button.login": ("登录", "Sign in"),
    "auth.button.send_code": ("获取验证码", "Send code"),
    "auth.button.register": ("注册", "Register"),
    "auth.button.reset": ("重置密码", "Reset password"),
    "auth.button.logout": ("退出登录", "Sign out"),
    "auth.link.register": ("注册账号", "Create an account"),
    "auth.link.forgot": ("忘记密码？", "Forgot password?"),
    "auth.link.login": ("已有账号？去登录", "Have an account? Sign in"),
    "auth.link.to_login": ("去登录", "Sign in"),
    # notices
    "auth.notice.code_sent": ("验证码已发送", "Code sent"),
    # account page
    "auth.account.username": ("用户名", "Username"),
    "auth.account.phone": ("手机号", "Phone"),
    "auth.account.kind": ("用户类型", "User type"),
    "auth.account.cert_level": ("认证等级", "Certification level"),
    "auth.account.level": ("{n} 级", "Level {n}"),
    "auth.account.none": ("未绑定", "None"),
    # field errors (schemas): {label} is the field's label in the same language
    "auth.err.required": ("请填写{label}", "{label} is required"),
    "auth.err.too_long": ("{label}过长", "{label} is too long"),
    "auth.err.invalid": ("{label}格式不正确", "{label} is not valid"),
    "auth.err.choice": ("请选择有效的{label}", "Choose one of the offered options for {label}"),
}

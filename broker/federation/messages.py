"""Page strings of the federation pages, added by ``broker.federation.register``."""

FEDERATION_MESSAGES: dict[str, tuple[str, str]] = {
    "fed.portals.title": ("使用其他门户账号登录", "Sign in with another portal"),
    "fed.kind.personal": ("个人（自然人）", "personal (natural person)"),
    "fed.kind.legal": ("法人", "legal person"),
    "fed.error.title": ("门户登录未完成", "The portal sign-in did not complete"),
    "fed.error.retry": ("重新登录", "Try again"),
    "fed.error.home": ("返回登录页", "Back to the sign-in page"),
    "fed.linked.title": ("已自动关联账号", "Your accounts were linked"),
    "fed.linked.body": ("您在{portal}的账号与本平台账号 {username} 的手机号一致（双方均已验证），已自动关联。以后用{portal}登录即进入该账号。",
                        "Your {portal} account has the same verified phone as the local account {username}, "
                        "so they were linked automatically. Signing in with {portal} now opens that account."),
    "fed.linked.continue": ("继续", "Continue"),
    "fed.conflict.title": ("用户名冲突", "Username conflict"),
    "fed.conflict.username": ("您在{portal}的登录名 {login} 与本平台已有账号同名，但手机号不同，无法自动关联。",
                              "Your {portal} login name {login} is the username of an existing local account "
                              "with a different phone, so they cannot be linked automatically."),
    "fed.conflict.phone": ("您在{portal}的手机号与本平台一个已有账号相同，但该手机号未在双方都经过验证，无法自动关联。",
                           "Your {portal} phone matches an existing local account, but it is not verified on both "
                           "sides, so they cannot be linked automatically."),
    "fed.conflict.ways": ("您可以：", "You can:"),
    "fed.conflict.way_upstream": ("到{portal}修改登录名，然后重新登录；", "change your login name at {portal}, then sign in again;"),
    "fed.conflict.way_admin": ("请本平台账号所在单位的管理员修改本地账号的用户名，然后重新登录；",
                               "ask the admin of the local account's unit to rename the local account, then sign in again;"),
    "fed.conflict.way_prove": ("如果本地账号就是您的，请在下方登录该账号以证明所有权，两个账号即被关联。",
                               "if the local account is yours, sign in to it below to prove it; the accounts are then linked."),
    "fed.conflict.prove": ("登录并关联", "Sign in and link"),
    "fed.restart": ("改用其他账号重新登录", "Start again with another account"),
    "fed.profile.title": ("完善基本信息", "Complete your basic information"),
    "fed.profile.intro": ("这是您第一次使用{portal}账号登录，本平台还没有与之对应的账号。请确认以下信息，创建本平台账号。",
                          "This is your first sign-in with {portal} and there is no matching local account. "
                          "Confirm the details below to create one."),
    "fed.profile.username_taken": ("{portal}的登录名不能直接用作用户名（已被占用或格式不符），请另选一个。",
                                   "Your {portal} login name cannot be used as the username (taken or not allowed); "
                                   "choose another."),
    "fed.profile.kind": ("账号类型", "Account kind"),
    "fed.profile.phone": ("手机号", "Phone number"),
    "fed.profile.phone_why": ("{portal}没有提供已验证的手机号。请验证一个手机号：它是本平台账号的必备信息，也是您在{portal}之外的另一种登录方式。",
                              "{portal} gave no verified phone number. Verify one: every account here has one, and it "
                              "is your other way to sign in besides {portal}."),
    "fed.portals.logo": ("{portal}标志", "{portal} logo"),
    "fed.profile.display_name": ("姓名（选填）", "Name (optional)"),
    "fed.profile.email": ("邮箱（选填）", "Email (optional)"),
    "fed.profile.submit": ("创建账号并登录", "Create the account and sign in"),
    "fed.account.title": ("我的关联账号", "My linked accounts"),
    "fed.account.none": ("尚未关联其他门户账号。", "No portal accounts linked yet."),
    "fed.account.level": ("认证等级 {n}", "level {n}"),
    "fed.account.unlink": ("解除关联", "Unlink"),
    "fed.account.link": ("关联{portal}账号", "Link a {portal} account"),
    "fed.account.notice.linked": ("已关联门户账号。", "The portal account was linked."),
    "fed.account.notice.unlinked": ("已解除关联。", "The portal account was unlinked."),
    "fed.upgrade.body": ("请前往{portal}提升认证等级（需达到 {needed} 级），完成后点击下方按钮重新登录。",
                         "Raise your certification level at {portal} (level {needed} is required), then press "
                         "the button below to sign in again."),
    "fed.upgrade.go": ("前往{portal}提升认证等级", "Upgrade at {portal}"),
    "fed.upgrade.retry": ("我已提升，重新登录", "I upgraded, try again"),
}

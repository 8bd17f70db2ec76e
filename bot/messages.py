"""Every user-facing string of the bot, in Japanese and English."""

from __future__ import annotations

import datetime as dt

from bot.release.models import Desk, Lang

_WEEKDAYS_JA = "月火水木金土日"

MESSAGES: dict[str, dict[Lang, str]] = {
    # help
    "help.title": {"ja": "{command} の使い方", "en": "How to use {command}"},
    "help.intro": {
        "ja": "G7産業・デジタル・技術大臣会合(2025年12月、モントリオール)についてお答えします。"
        "末尾に `en` または `ja` を付けると返信の言語を選べます。",
        "en": "Answers about the G7 Industry, Digital and Technology Ministers' Meeting (Montréal, "
        "December 2025). Add `en` or `ja` at the end to choose the reply language.",
    },
    "help.examples": {"ja": "例", "en": "Examples"},
    "help.admin": {"ja": "管理者のみ", "en": "admins only"},
    # errors and unknown input
    "unknown.command": {
        "ja": "「{text}」というコマンドはありません。",
        "en": "There is no command “{text}”.",
    },
    "unknown.did_you_mean": {"ja": "もしかして: {suggestions}", "en": "Did you mean: {suggestions}"},
    "unknown.read_as": {
        "ja": "「{typed}」は {command} として答えました。",
        "en": "Read “{typed}” as {command}.",
    },
    "error.bug": {
        "ja": "申し訳ありません。処理中に問題が発生しました(参照番号 `{ref}`)。管理者にお知らせください。",
        "en": "Sorry, something went wrong on our side (reference `{ref}`). Please tell an administrator.",
    },
    "error.too_long": {
        "ja": "入力が長すぎます({length}文字)。最初の{limit}文字だけを読みました。",
        "en": "Your text is long ({length} characters); only the first {limit} were read.",
    },
    # summary
    "summary.title": {"ja": "会合の概要", "en": "Meeting summary"},
    "summary.what": {"ja": "何が", "en": "What"},
    "summary.when": {"ja": "いつ", "en": "When"},
    "summary.where": {"ja": "どこで", "en": "Where"},
    "summary.who": {"ja": "日本からの出席者", "en": "Japan's delegation"},
    "summary.trip": {"ja": "出張期間", "en": "Trip"},
    "summary.presidency": {"ja": "議長国", "en": "G7 presidency"},
    "summary.topics": {"ja": "主な議題", "en": "Topics"},
    "summary.japan_said": {"ja": "日本からの発信", "en": "What Japan said"},
    "summary.said_by": {"ja": "会合での{who}からの発信", "en": "What {who} said at the meeting"},
    "summary.outcomes_note": {
        "ja": "主な内容は発表の要約です(`{command} outcomes`)。",
        "en": "Their main points, as the release summarises them: `{command} outcomes`.",
    },
    "summary.outcomes": {"ja": "成果", "en": "Outcomes"},
    # a release without a ministerial meeting (a bilateral visit)
    "summary.visit_title": {"ja": "訪問の概要", "en": "Visit summary"},
    "summary.visit_what": {"ja": "発表", "en": "Release"},
    "summary.no_dates": {"ja": "(発表に日程の記載なし)", "en": "(the release gives no dates)"},
    "summary.no_place": {"ja": "(発表に訪問先の記載なし)", "en": "(the release names no place)"},
    "summary.no_delegation": {"ja": "(発表に記載なし)", "en": "(not named in the release)"},
    "summary.visit_bilaterals": {"ja": "二国間会談", "en": "Bilateral meetings"},
    "summary.bilaterals": {
        "ja": "二国間会談: {count}件(`{command} bilateral` で一覧)",
        "en": "Bilateral meetings: {count} (list them with `{command} bilateral`)",
    },
    # bilateral
    "bilateral.list_title": {"ja": "二国間会談({count}件)", "en": "Bilateral meetings ({count})"},
    "bilateral.list_hint": {
        "ja": "詳しくは `{command} bilateral フランス` のように相手を指定してください。",
        "en": "For one meeting, name the counterpart: `{command} bilateral france`.",
    },
    "bilateral.title": {"ja": "二国間会談 ({number}) {organisation}", "en": "Bilateral ({number}): {organisation}"},
    "bilateral.japan": {"ja": "日本側", "en": "Japan"},
    "bilateral.topics": {"ja": "テーマ", "en": "Topics"},
    "bilateral.said": {"ja": "内容", "en": "What was discussed"},
    "bilateral.note": {"ja": "メモ", "en": "Note"},
    "bilateral.several": {
        "ja": "「{text}」に該当する会談が{count}件あります。",
        "en": "{count} meetings match “{text}”.",
    },
    "bilateral.not_found": {
        "ja": "「{text}」に該当する会談は見つかりませんでした。会談相手は次のとおりです。",
        "en": "No bilateral meeting matches “{text}”. Japan met:",
    },
    # contact
    "contact.title": {"ja": "問い合わせ先", "en": "Contact desks"},
    "contact.unknown": {
        "ja": "「{text}」に対応する窓口は発表に記載がありません。窓口({count}件)をすべてご案内します。",
        "en": "The release lists no desk for “{text}”; here are all {count} desks.",
    },
    "contact.several": {
        "ja": "「{text}」に該当する窓口が{count}件あります。",
        "en": "{count} desks match “{text}”.",
    },
    # lookups (bilateral, contact, followups): a misspelt word read as something else
    "lookup.corrected": {"ja": "「{typed}」を{shown}として表示しています。", "en": "Showing {shown} for “{typed}”."},
    "contact.bureau": {"ja": "部署", "en": "Bureau"},
    "contact.lead": {"ja": "責任者", "en": "Lead"},
    "contact.staff": {"ja": "担当者", "en": "Staff"},
    "contact.phone": {"ja": "電話", "en": "Phone"},
    "contact.extension": {"ja": "内線", "en": "ext."},
    "contact.email": {"ja": "メール", "en": "E-mail"},
    "contact.direct": {"ja": "直通", "en": "direct"},
    "contact.fax": {"ja": "FAX", "en": "Fax"},
    # a field `g7bot import` left for a person (Release.untranslated): shown in Japanese in English replies
    "untranslated": {"ja": "{text}(未翻訳)", "en": "{text} (not yet translated)"},
    # {examples}: contact.hint_example for the selected release's first desks, each with a word of its own.
    "contact.hint": {"ja": "窓口の指定: {examples}", "en": "Pick a desk: {examples}"},
    "contact.hint_example": {"ja": "`{command} contact {word}`({desk})", "en": "`{command} contact {word}` ({desk})"},
    # outcomes
    "outcomes.title": {"ja": "会合の成果", "en": "Outcomes of the meeting"},
    "outcomes.none": {
        "ja": "この発表には会合の成果(採択文書)の記載はありません。",
        "en": "This release records no outcomes (no adopted texts).",
    },
    "outcomes.release_summary": {
        "ja": "以下は{publisher}の発表による主な内容の要約です(「{intro}」)。採択文書の全文は "
        "`{command} docs` の資料をご覧ください。",
        "en": "As the {publisher} release puts it, “{intro}”: the points below are its summary, "
        "not the adopted texts; for the full texts see the documents in `{command} docs`.",
    },
    # docs
    "docs.title": {"ja": "関連資料", "en": "Related documents"},
    "docs.size": {"ja": "{format}形式、{size:,}KB", "en": "{format}, {size:,} KB"},
    # admin
    "admin.refused": {
        "ja": "`{command} admin` は管理者だけが使えます。管理者に依頼してください。",
        "en": "`{command} admin` is for administrators only. Please ask one of them.",
    },
    "admin.usage": {
        "ja": "使い方: `{command} admin schedule` / `{command} admin digest-now [チャンネル]` / "
        "`{command} admin reload [confirm]` / `{command} admin audit [ID]` / `{command} admin reopen <ID>` / "
        "`{command} admin due <ID> <YYYY-MM-DD> [assumed]`",
        "en": "Usage: `{command} admin schedule` / `{command} admin digest-now [channel]` / "
        "`{command} admin reload [confirm]` / `{command} admin audit [id]` / `{command} admin reopen <id>` / "
        "`{command} admin due <id> <YYYY-MM-DD> [assumed]`",
    },
    "admin.no_scheduler": {
        "ja": "スケジューラーは `g7bot serve` でのみ動作します(このコンソールでは使えません)。",
        "en": "The scheduler runs only under `g7bot serve`, not in this console.",
    },
    "admin.schedule.title": {"ja": "次回の投稿予定", "en": "Next scheduled posts"},
    "admin.schedule.none": {"ja": "予定された投稿はありません。", "en": "Nothing is scheduled."},
    "admin.schedule.retrying": {
        "ja": "失敗して再試行待ちの投稿(チャンネルへの招待などを確認してください)",
        "en": "Failed posts waiting to be retried (check, for example, that the bot is in the channel)",
    },
    "admin.schedule.attempts": {"ja": "{count}回失敗: {error}", "en": "{count} failed attempt(s): {error}"},
    "admin.schedule.failed": {
        "ja": "投稿できず、再試行しない投稿(理由と対処):",
        "en": "Posts Slack refused for good, not retried (reason and what to fix):",
    },
    "admin.schedule.external": {
        "ja": "外部の組織と共有されたチャンネル(Slack コネクト)のため投稿しなかった投稿:",
        "en": "Posts not made because the channel is shared with another organisation (Slack Connect):",
    },
    "admin.schedule.held": {
        "ja": "投稿済みか確認できず保留中の投稿(チャンネルを確認してください。再送しません):",
        "en": "Posts held: they may have been posted and Slack's history could not tell (check the channel; "
        "they are not re-sent):",
    },
    "admin.digest.title": {"ja": "ダイジェストの投稿", "en": "Digest now"},
    "admin.digest.queued": {
        "ja": "{channels} へのダイジェスト投稿を受け付けました。数秒で投稿されます。",
        "en": "A digest for {channels} is queued and will be posted within seconds.",
    },
    "admin.digest.none": {
        "ja": "ダイジェストの投稿先がありません(data/schedule.yml の digests を確認してください)。",
        "en": "No digest channel is configured (see digests in data/schedule.yml).",
    },
    "admin.digest.bad_channel": {
        "ja": "「{text}」はチャンネルIDではありません(例: C0123456789 または #チャンネル)。",
        "en": "“{text}” is not a channel id (e.g. C0123456789, or pick the #channel).",
    },
    "admin.reload.title": {"ja": "再読込", "en": "Reload"},
    "admin.reload.ok": {
        "ja": "データとスケジュールを再読込しました。",
        "en": "Data and schedule reloaded.",
    },
    "admin.reload.failed": {
        "ja": "再読込できませんでした。これまでのデータとスケジュールで動作を続けます。理由:",
        "en": "Could not reload; the bot keeps serving the previous data and schedule. Why:",
    },
    "admin.reload.unchanged": {
        "ja": "データとスケジュールを再読込しました。変更はありません。",
        "en": "Data and schedule reloaded; nothing changed.",
    },
    "admin.reload.held": {
        "ja": "何も適用していません。この再読込では下記が削除されます(途中で切れたファイルでも同じように見えます)。"
        "意図どおりなら `{command} admin reload confirm` を実行してください。",
        "en": "Nothing applied: this reload would remove what is listed below (a file cut short looks the same). "
        "If that is intended, run `{command} admin reload confirm`.",
    },
    "admin.reload.added": {"ja": "追加", "en": "Added"},
    "admin.reload.removed": {"ja": "削除", "en": "Removed"},
    "admin.reload.changed": {"ja": "変更", "en": "Changed"},
    "admin.reload.kind.digest": {"ja": "ダイジェスト", "en": "digest"},
    "admin.reload.kind.reminder-channel": {"ja": "リマインダーの投稿先", "en": "reminder channel"},
    "admin.reload.kind.commitment": {"ja": "フォローアップ", "en": "commitment"},
    # data/owners.yml: the desk an entry names (bureau + office, or release id/desk id) and its people
    "admin.reload.kind.owners": {"ja": "窓口の担当者(data/owners.yml)", "en": "desk owners (data/owners.yml)"},
    "admin.reload.more": {"ja": "…ほか{count}件", "en": "… and {count} more"},
    # follow-ups (commitments): shared by /g7 followups, digests and reminders
    "followups.title": {"ja": "フォローアップ({count}件)", "en": "Follow-ups ({count})"},
    # One release shown: named by its meeting (a visit: its title).
    "followups.title_of": {"ja": "フォローアップ: {name}({count}件)", "en": "Follow-ups: {name} ({count})"},
    "followups.overdue": {"ja": "期限超過({count}件)", "en": "Overdue ({count})"},
    "followups.upcoming": {"ja": "今後の期限({count}件)", "en": "Upcoming ({count})"},
    "followups.done": {"ja": "完了({count}件)", "en": "Done ({count})"},
    "followups.none": {"ja": "該当なし", "en": "None"},
    "followups.due": {"ja": "期限 {date}", "en": "due {date}"},
    "followups.overdue_by": {"ja": "{days}日超過", "en": "{days} days overdue"},
    "followups.to_confirm": {"ja": "期日の確認待ち({count}件)", "en": "Dates to confirm ({count})"},
    "followups.passed_by": {
        "ja": "仮の期日から{days}日経過、期日の確認を",
        "en": "assumed date passed {days} days ago: confirm the date",
    },
    "followups.done_on": {"ja": "{date}完了", "en": "done {date}"},
    "followups.assumed": {"ja": "(仮の期日)", "en": "(assumed date)"},
    "followups.owner": {"ja": "担当: {desk}", "en": "Owner: {desk}"},
    # The owner desk (bureau and office) and its people: Slack @mentions (data/owners.yml), else the lead.
    "followups.owner_people": {"ja": "{desk}({people})", "en": "{desk}: {people}"},
    "followups.assumptions": {
        "ja": "リリースには期日の記載がありません。(仮の期日)は計画上の仮定です({file} で修正)。",
        "en": "The release states no due dates: dates marked (assumed date) are planning assumptions "
        "(edit {file}).",
    },
    # Where a release's follow-ups are edited: its own folder of the library (one release shown), or each one's.
    "followups.file": {"ja": "`data/releases/{id}/commitments.yml`", "en": "`data/releases/{id}/commitments.yml`"},
    "followups.file_each": {
        "ja": "各発表の `data/releases/&lt;ID&gt;/commitments.yml`",
        "en": "each release's `data/releases/&lt;id&gt;/commitments.yml`",
    },
    "followups.filtered": {"ja": "絞り込み: {what}", "en": "Showing: {what}"},
    "followups.no_match": {
        "ja": "「{text}」に該当するフォローアップはありません。すべて表示します。",
        "en": "No follow-up matches “{text}”; showing all of them.",
    },
    "followups.hint": {
        "ja": "国・機関や窓口で絞り込めます: `{command} followups フランス`、`{command} followups ai`",
        "en": "Filter by country, organisation or desk: `{command} followups france`, `{command} followups ai`",
    },
    # digests
    # admin notices (DMs) about posts that fail for good
    "notice.title": {"ja": "g7bot: 投稿できないチャンネルがあります", "en": "g7bot: posts that cannot be made"},
    "notice.failed": {
        "ja": "<#{channel}> への投稿が Slack に拒否されました(エラー `{error}`)。再試行はしません。",
        "en": "Slack refused the posts to <#{channel}> (error `{error}`). They are not retried.",
    },
    "notice.dm_failed": {
        "ja": "<@{user}> へのDM(担当窓口へのリマインダー)が Slack に拒否されました(エラー `{error}`)。"
        "再試行はしません。",
        "en": "Slack refused the DMs to <@{user}> (reminders to a desk's owner; error `{error}`). "
        "They are not retried.",
    },
    "notice.fix.dm_user": {
        "ja": "data/owners.yml のユーザーID `{channel}` を確認し(退職・無効化されたアカウントやボットは外す)、"
        "`/g7 admin reload` で読み込み直してください。",
        "en": "Check the user id `{channel}` in data/owners.yml (take out deactivated accounts and bots), "
        "then `/g7 admin reload`.",
    },
    "notice.every_channel": {
        "ja": "どのチャンネルへの投稿も Slack に拒否されます(エラー `{error}`)。再試行はしません。",
        "en": "Slack refuses posts to every channel (error `{error}`). They are not retried.",
    },
    "notice.external": {
        "ja": "<#{channel}> は外部の組織と共有されている(Slack コネクト)ため、"
        "内部向けのフォローアップを投稿しませんでした。",
        "en": "<#{channel}> is shared with another organisation (Slack Connect), so the internal follow-ups "
        "were not posted there.",
    },
    "notice.which": {"ja": "対象の投稿", "en": "Which posts"},
    "notice.more": {"ja": "ほか{count}件", "en": "and {count} more"},
    "notice.how": {"ja": "対処方法", "en": "How to fix it"},
    "notice.fix.not_in_channel": {
        "ja": "ボットがチャンネルのメンバーではありません。"
        "<#{channel}> で `/invite @g7bot` を実行して招待してください。",
        "en": "The bot is not in the channel: invite it by typing `/invite @g7bot` in <#{channel}>.",
    },
    "notice.fix.channel_not_found": {
        "ja": "チャンネルが見つかりません。data/schedule.yml のチャンネルIDを確認してください"
        "(非公開チャンネルにはボットの招待が必要です)。直したら `/g7 admin reload` を実行してください。",
        "en": "The channel was not found: check its id in data/schedule.yml (a private channel needs the bot "
        "invited), then run `/g7 admin reload`.",
    },
    "notice.fix.is_archived": {
        "ja": "チャンネルはアーカイブされています。アーカイブを解除するか、data/schedule.yml のチャンネルIDを"
        "別のチャンネルに変えて `/g7 admin reload` を実行してください。",
        "en": "The channel is archived: unarchive it, or change the channel id in data/schedule.yml and run "
        "`/g7 admin reload`.",
    },
    "notice.fix.external_channel": {
        "ja": "このチャンネルに投稿してよい場合は、data/schedule.yml でこのチャンネルのダイジェストまたはリマインダーに"
        "`allow_external: true` を書き、`/g7 admin reload` を実行してください。"
        "そうでなければ社内のチャンネルに変えてください。",
        "en": "If these posts may go to this channel, set `allow_external: true` on its digest or reminders in "
        "data/schedule.yml and run `/g7 admin reload`; otherwise choose an internal channel.",
    },
    "notice.fix.reinstall": {
        "ja": "アプリの権限が足りません。manifest.yml のスコープでアプリをワークスペースに再インストールしてください。",
        "en": "The app lacks a permission: reinstall it to the workspace with the scopes in manifest.yml.",
    },
    "notice.fix.restricted": {
        "ja": "ワークスペースまたはチャンネルの設定がボットの投稿を禁止しています。Slack の管理者に相談するか、"
        "投稿先を変えてください。",
        "en": "A workspace or channel setting forbids the bot's posts: ask a Slack admin, or choose another channel.",
    },
    "notice.fix.too_long": {
        "ja": "メッセージが Slack の上限を超えています。表示するデータを減らしてください。",
        "en": "The message exceeds Slack's limit: shorten the data it shows.",
    },
    "notice.fix.bug": {
        "ja": "Slack がメッセージそのものを拒否しました。g7bot の不具合です。ログのエラー行を添えて報告してください。",
        "en": "Slack refused the message itself: a bug in g7bot. Report it with the error line from the log.",
    },
    "notice.fix.other": {
        "ja": "ログのエラー `{error}` と `/g7 admin schedule` を確認してください。",
        "en": "Look for the error `{error}` in the log and in `/g7 admin schedule`.",
    },
    "notice.once": {
        "ja": "このお知らせはチャンネルとエラーごとに一度だけ送ります。一覧は `/g7 admin schedule` で見られます。",
        "en": "This notice is sent once per channel and error; `/g7 admin schedule` lists these posts.",
    },
    "digest.title": {"ja": "G7フォローアップ ダイジェスト({date})", "en": "G7 follow-ups: digest for {date}"},
    "digest.overdue": {"ja": "期限超過", "en": "Overdue"},
    "digest.upcoming": {"ja": "{days}日以内に期限", "en": "Due within {days} days"},
    "digest.recent": {"ja": "最近の完了(過去{days}日)", "en": "Recently done (last {days} days)"},
    "digest.nothing_overdue": {"ja": "期限を過ぎたものはありません。", "en": "Nothing is overdue."},
    "digest.nothing_upcoming": {
        "ja": "この期間に期限を迎えるものはありません。",
        "en": "Nothing falls due in this period.",
    },
    "digest.nothing_done": {"ja": "最近完了したものはありません。", "en": "Nothing was completed recently."},
    "digest.to_confirm": {"ja": "期日の確認待ち(仮の期日を過ぎたもの)", "en": "Dates to confirm (assumed date passed)"},
    "digest.nothing_to_confirm": {"ja": "確認待ちの期日はありません。", "en": "No date is waiting to be confirmed."},
    # the administrative calendar (bot/calendar): why a day is not a business day
    "calendar.saturday": {"ja": "土曜日", "en": "Saturday"},
    "calendar.sunday": {"ja": "日曜日", "en": "Sunday"},
    "calendar.closure": {"ja": "年末年始の休日", "en": "the year-end closure (29 December to 3 January)"},
    "calendar.partner_holiday": {"ja": "{country}の祝日({name})", "en": "a public holiday in {country} ({name})"},
    # reminders
    "reminder.title": {"ja": "リマインダー: {title}", "en": "Reminder: {title}"},
    "reminder.due_in": {"ja": "期限まであと{days}日です。", "en": "Due in {days} days."},
    "reminder.due_tomorrow": {"ja": "明日が期限です。", "en": "Due tomorrow."},
    "reminder.due_today": {"ja": "本日が期限です。", "en": "Due today."},
    "reminder.overdue": {"ja": "期限を{days}日過ぎています。", "en": "{days} days overdue."},
    "reminder.to_confirm": {
        "ja": "仮の期日を{days}日過ぎました。期日を確認してください。",
        "en": "The assumed date passed {days} days ago: please confirm the date.",
    },
    "reminder.non_working": {"ja": "(この日は{reason}で休日)", "en": "(a non-working day: {reason})"},
    "reminder.snoozed": {"ja": "(スヌーズしたリマインダーです)", "en": "(snoozed reminder)"},
    "reminder.snoozed_by_user": {
        "ja": "({user} さんがスヌーズしたリマインダーです)",
        "en": "(snoozed by {user})",
    },
    "reminder.due": {"ja": "期限", "en": "Due"},
    "reminder.window": {"ja": "期間", "en": "Window"},
    "reminder.source": {"ja": "出典", "en": "Source"},
    "reminder.owner": {"ja": "担当窓口", "en": "Owner desk"},
    "reminder.assumption": {"ja": "仮の期日: {note}", "en": "Assumed date: {note}"},
    "reminder.source_bilateral": {
        "ja": "二国間会談 ({number}) {organisation}: {person}",
        "en": "Bilateral ({number}) with {organisation}: {person}",
    },
    "reminder.source_meeting": {
        "ja": "{meeting}での{who}からの発信",
        "en": "What {who} said at the {meeting}",
    },
    "reminder.japan": {"ja": "日本", "en": "Japan"},
    "followups.release_says": {"ja": "発表の内容", "en": "What the release says"},
    "followups.team_plan": {"ja": "チームの予定(発表にはない)", "en": "Team plan (not in the release)"},
    "reminder.button_done": {"ja": "完了", "en": "Done"},
    "reminder.button_snooze_1d": {"ja": "1日後に再通知", "en": "Snooze 1 day"},
    "reminder.button_snooze_1w": {"ja": "1週間後に再通知", "en": "Snooze 1 week"},
    "reminder.button_snooze_next_business_day": {"ja": "翌営業日に再通知", "en": "Snooze to next business day"},
    "reminder.done_by": {
        "ja": "{user} さんが {when} に完了にしました。",
        "en": "Marked done by {user} on {when}.",
    },
    "reminder.snoozed_by": {
        "ja": "{user} さんが {when} までスヌーズしました。",
        "en": "Snoozed until {when} by {user}.",
    },
    "reminder.button_reopen": {"ja": "完了を取り消す", "en": "Reopen"},
    "reminder.reopened_by": {
        "ja": "{user} さんが {when} に完了を取り消しました。",
        "en": "Reopened by {user} on {when}.",
    },
    # "I'll take it" (assignment)
    "reminder.button_take": {"ja": "担当します", "en": "I'll take it"},
    "reminder.taken_by": {"ja": "担当者: {user} さん", "en": "Taken by {user}"},
    "reminder.already_taken": {
        "ja": "「{title}」は既に {user} さんが担当しています。",
        "en": "“{title}” is already taken by {user}.",
    },
    # the audit record (/g7 admin audit) and reopen (/g7 admin reopen)
    "admin.audit.title": {"ja": "変更履歴", "en": "Audit log"},
    "admin.audit.title_one": {"ja": "変更履歴: {commitment}", "en": "Audit log: {commitment}"},
    "admin.audit.none": {"ja": "記録はまだありません。", "en": "Nothing is recorded yet."},
    "admin.audit.shown": {
        "ja": "新しい順に{first}〜{last}件目を表示(全{total}件、時刻は{tz})。",
        "en": "Entries {first}–{last} of {total}, newest first (times in {tz}).",
    },
    "admin.audit.more": {"ja": "続き: `{next}`", "en": "More: `{next}`"},
    "admin.audit.unknown": {
        "ja": "「{text}」というフォローアップはありません。IDは `{command} followups` で確認できます。",
        "en": "There is no follow-up “{text}”. `{command} followups` lists them.",
    },
    "admin.audit.surface.button": {"ja": "ボタン", "en": "button"},
    "admin.audit.surface.slash": {"ja": "コマンド", "en": "command"},
    "admin.audit.surface.app_home": {"ja": "ホームタブ", "en": "App Home"},
    "admin.audit.surface.modal": {"ja": "フォーム", "en": "form"},
    "admin.audit.surface.cli": {"ja": "コマンドライン", "en": "command line"},
    "admin.audit.surface.scheduler": {"ja": "スケジューラー", "en": "scheduler"},
    "admin.audit.action.done": {"ja": "完了", "en": "done"},
    "admin.audit.action.snooze": {"ja": "スヌーズ", "en": "snooze"},
    "admin.audit.action.reopen": {"ja": "完了取り消し", "en": "reopen"},
    "admin.audit.action.assign": {"ja": "担当者の設定", "en": "assign"},
    "admin.audit.action.due_confirm": {"ja": "期日の確定", "en": "date confirmed"},
    "admin.audit.action.reload": {"ja": "再読込", "en": "reload"},
    "admin.audit.action.digest_now": {"ja": "ダイジェスト投稿", "en": "digest now"},
    "admin.audit.system": {"ja": "システム", "en": "the system"},
    "admin.audit.state.file": {"ja": "データファイルのまま", "en": "as in the data file"},
    "admin.audit.state.open": {"ja": "未完了", "en": "open"},
    "admin.audit.state.done": {"ja": "完了", "en": "done"},
    "admin.audit.state.snoozed": {"ja": "{when}までスヌーズ", "en": "snoozed until {when}"},
    "admin.audit.reload.applied": {
        "ja": "適用(追加{added}・削除{removed}・変更{changed})",
        "en": "applied ({added} added, {removed} removed, {changed} changed)",
    },
    "admin.audit.reload.held": {"ja": "確認待ちで保留(削除{removed})", "en": "held for confirm ({removed} removed)"},
    "admin.audit.reload.refused": {"ja": "拒否(問題{count}件)", "en": "refused ({count} problem(s))"},
    "admin.audit.digest": {"ja": "投稿先 {channels}", "en": "to {channels}"},
    "admin.reopen.title": {"ja": "完了の取り消し", "en": "Reopen"},
    "admin.reopen.usage": {
        "ja": "取り消すフォローアップのIDを指定してください: `{command} admin reopen <ID>`",
        "en": "Name the follow-up to reopen: `{command} admin reopen <id>`",
    },
    "admin.reopen.reopened": {
        "ja": "「{title}」を未完了に戻しました(変更履歴に記録済み)。",
        "en": "“{title}” is open again (recorded in the audit log).",
    },
    "admin.reopen.not_done": {"ja": "「{title}」は完了になっていません。", "en": "“{title}” is not marked done."},
    "admin.reopen.file_done": {
        "ja": "「{title}」はデータファイルで完了(status: done)になっています。ファイルを直して再読込してください。",
        "en": "“{title}” is done in the data file (status: done): edit the file, then reload.",
    },
    # /g7 admin due (a date set on top of the data file) and how the audit shows it and assignments
    "admin.due.title": {"ja": "期日の設定", "en": "Due date"},
    "admin.due.usage": {
        "ja": "使い方: `{command} admin due <ID> <YYYY-MM-DD> [assumed]`(`assumed` を付けると仮の期日)/ "
        "`{command} admin due <ID> clear`(データファイルの期日に戻す)",
        "en": "Usage: `{command} admin due <id> <YYYY-MM-DD> [assumed]` (`assumed`: still an assumption) / "
        "`{command} admin due <id> clear` (back to the data file's date)",
    },
    "admin.due.bad_date": {
        "ja": "「{text}」は日付として読めません。2026-01-05 または 2026/1/5 の形で指定してください。",
        "en": "“{text}” is not a date I can read. Write it as 2026-01-05 or 2026/1/5.",
    },
    "admin.due.set": {
        "ja": "「{title}」の期日を {date}(確定)にしました。以前: {before}。変更履歴に記録済みです。",
        "en": "“{title}” is now due {date} (confirmed); it was {before}. Recorded in the audit log.",
    },
    "admin.due.set_assumed": {
        "ja": "「{title}」の期日を {date}(仮)にしました。以前: {before}。変更履歴に記録済みです。",
        "en": "“{title}” is now due {date} (an assumption); it was {before}. Recorded in the audit log.",
    },
    "admin.due.unchanged": {
        "ja": "「{title}」の期日は既に {date} です。何も変更していません。",
        "en": "“{title}” is already due {date}; nothing changed.",
    },
    "admin.due.cleared": {
        "ja": "「{title}」の期日をデータファイルの {date} に戻しました。変更履歴に記録済みです。",
        "en": "“{title}” is back to the data file's date, {date}. Recorded in the audit log.",
    },
    "admin.due.not_set": {
        "ja": "「{title}」の期日はデータファイルのままです({date})。戻すものはありません。",
        "en": "“{title}” already has the data file's date ({date}); there is nothing to clear.",
    },
    "admin.due.confirmed": {"ja": "確定", "en": "confirmed"},
    "admin.due.assumed": {"ja": "仮", "en": "assumed"},
    "admin.audit.due.file": {"ja": "データファイルの期日", "en": "the data file's date"},
    "admin.audit.due.date": {"ja": "{date}({how})", "en": "{date} ({how})"},
    "admin.audit.assign.none": {"ja": "担当者なし", "en": "nobody"},
    # /g7 followups export
    "followups.export.title": {"ja": "フォローアップのエクスポート", "en": "Follow-ups export"},
    "followups.export.sending": {
        "ja": "フォローアップのCSVファイルを作成し、DMでお送りします…",
        "en": "Preparing the follow-ups CSV; it will arrive in a direct message…",
    },
    "followups.export.comment": {
        "ja": "G7フォローアップ一覧({count}件、{when}時点)。Excelでそのまま開けます。",
        "en": "G7 follow-ups ({count}, as of {when}). Opens directly in Excel.",
    },
    "followups.export.failed": {
        "ja": "CSVファイルを送れませんでした({error})。しばらくしてからもう一度お試しください。",
        "en": "The CSV file could not be sent ({error}). Please try again later.",
    },
    "followups.export.unavailable": {
        "ja": "ファイルはSlackでのみ送れます。手元では `g7bot export` を使ってください。",
        "en": "Files can be sent only through Slack; locally, run `g7bot export`.",
    },
    # search
    # The header is plain text, where an escape would show as typed: what was searched goes in the text below.
    "search.title": {"ja": "検索", "en": "Search"},
    "search.usage": {
        "ja": "検索する語を続けてください: `{command} search 量子`、`{command} search semiconductors`、"
        "`{command} search 鉄鋼 page 2`",
        "en": "Add the words to look for: `{command} search quantum`, `{command} search 半導体`, "
        "`{command} search steel page 2`",
    },
    "search.count": {
        "ja": "「{query}」: {total}件見つかりました({first}〜{last}件目を表示)。",
        "en": "“{query}”: {total} found (showing {first}–{last}).",
    },
    "search.some_words": {
        "ja": "すべての語を含む文はありません。いずれかの語を含む文を表示します。",
        "en": "No sentence holds every word; these hold some of them.",
    },
    "search.more": {
        "ja": "ほかに{more}件あります: `{command} search {query} page {next}`",
        "en": "{more} more: `{command} search {query} page {next}`",
    },
    "search.none": {
        "ja": "「{query}」を含む文は見つかりませんでした。",
        "en": "Nothing in the release holds “{query}”.",
    },
    "search.suggest": {"ja": "こちらで検索してみてください: {words}", "en": "Try: {words}"},
    "search.release": {"ja": "{published}「{title}」", "en": "{published}, “{title}”"},
    "search.cite_line": {"ja": "出典: {release} {lines}行目", "en": "Source: {release}, line {lines}"},
    "search.cite_record": {"ja": "出典: {release}(データ {record})", "en": "Source: {release} (data {record})"},
    "search.link": {"ja": "発表ページ", "en": "release page"},
    "search.building": {
        "ja": "全{count}件の発表の索引を作成中です。いまは{release}のみを検索しています。"
        "しばらくしてからもう一度お試しください。",
        "en": "The index of all {count} releases is being built: for now, only {release} is searched. "
        "Try again in a moment.",
    },
    # citations: where a reply's facts come from (bot/release/citation.py)
    "citation.release": {
        "ja": "出典: {publisher} {published}のニュースリリース「{title}」",
        "en": "Source: {publisher} news release of {published}, “{title}”",
    },
    "citation.line": {"ja": "原文 `{file}` の{lines}行目", "en": "Original text `{file}`, line {lines}"},
    "citation.lines": {"ja": "原文 `{file}` の{lines}行目", "en": "Original text `{file}`, lines {lines}"},
    "citation.more": {"ja": "ほか{count}件の発表", "en": "and {count} more releases"},
    # release selectors (bot/library/select.py) and /g7 releases
    "help.selector": {
        "ja": "発表を選ぶには `@` を付けます: `@&lt;ID&gt;`、`@2025-12-10`、`@2025-12`(`@2025年12月`)、`@2025`、"
        "題名の語 `@モントリオール`(複数はすべて一致)。一覧は `{command} releases`。",
        "en": "Pick a release with `@`: `@&lt;id&gt;`, `@2025-12-10`, `@2025-12` (`@2025年12月`), `@2025`, or title "
        "words `@montreal` (several must all match). List them with `{command} releases`.",
    },
    "select.title": {"ja": "発表の選択", "en": "Choosing a release"},
    "select.none": {
        "ja": "「{text}」に該当する発表はありません({count}件の発表があります。新しい順):",
        "en": "No release matches “{text}” (there are {count} releases; the newest):",
    },
    "select.hint": {
        "ja": "すべての発表とIDは `{command} releases` で確認できます。",
        "en": "See every release and its id with `{command} releases`.",
    },
    "select.several": {
        "ja": "「{text}」に該当する発表が{count}件あります。IDで1件を選んでください:",
        "en": "{count} releases match “{text}”; pick one by its id:",
    },
    "select.more": {
        "ja": "ほか{count}件(`{command} releases {text}` で一覧)",
        "en": "and {count} more (`{command} releases {text}` lists them)",
    },
    "select.pick": {"ja": "例: `{command} summary @{id}`", "en": "For example: `{command} summary @{id}`"},
    "releases.title": {"ja": "発表の一覧({count}件)", "en": "Releases ({count})"},
    "releases.counts": {
        "ja": "二国間会談{bilaterals}件・フォローアップ{followups}件",
        "en": "{bilaterals} bilaterals, {followups} follow-ups",
    },
    "releases.default": {"ja": "(既定)", "en": "(default)"},
    "releases.shown": {
        "ja": "{first}〜{last}件目を表示(新しい順)。",
        "en": "Showing {first}–{last}, newest first.",
    },
    "releases.more": {
        "ja": "続きは `{next}`。年や月で絞り込めます: `{command} releases @2025`。",
        "en": "More: `{next}`. Narrow by year or month: `{command} releases @2025`.",
    },
    "releases.use": {
        "ja": "発表を選んで質問できます: `{command} summary @&lt;ID&gt;`。",
        "en": "Ask about one release with its id: `{command} summary @&lt;id&gt;`.",
    },
    # "also met" and the history of meetings with one country or organisation (bot/library/history.py)
    "history.also_met": {"ja": "過去の会談", "en": "Also met"},
    "history.line": {"ja": "{date} 「{title}」: {who}", "en": "{date}, “{title}”: {who}"},
    "history.more": {
        "ja": "ほか{count}件: `{command} bilateral {who} history`",
        "en": "and {count} more: `{command} bilateral {who} history`",
    },
    "history.hint": {
        "ja": "すべての会談: `{command} bilateral {who} history`",
        "en": "Every meeting: `{command} bilateral {who} history`",
    },
    "history.title": {"ja": "{who}との会談の履歴({count}件)", "en": "Meetings with {who} ({count})"},
    "history.none": {
        "ja": "「{text}」との会談はどの発表にもありません。",
        "en": "No release has a meeting with “{text}”.",
    },
    "history.shown": {
        "ja": "新しい順に{shown}件を表示。続きは `{command} bilateral {who} history page {next}`。",
        "en": "Showing {shown}, newest first. More: `{command} bilateral {who} history page {next}`.",
    },
    "history.not_here": {
        "ja": "「{text}」との会談はこの発表({release})にはありません。ほかの発表での会談:",
        "en": "This release ({release}) has no meeting with “{text}”. Meetings in other releases:",
    },
    "followups.in_release": {"ja": "発表: {release}", "en": "release: {release}"},
    "followups.releases": {
        "ja": "{count}件の発表のフォローアップです(1件に絞るには `@&lt;ID&gt;`)。",
        "en": "Follow-ups of {count} releases (add `@&lt;id&gt;` for one).",
    },
    # g7bot import (the command line)
    "import.written": {"ja": "{folder} に書き込みました。", "en": "Written to {folder}."},
    "import.kept": {"ja": "以前のファイルは {folder} に残しました。", "en": "The previous files are kept in {folder}."},
    "import.exists": {
        "ja": "{folder} は既にあります。置き換えるには --replace を付けてください(元のファイルは残します)。",
        "en": "{folder} exists already. Add --replace to replace it (the previous files are kept).",
    },
    "import.nothing": {
        "ja": "{file} から使える内容が見つかりませんでした。何も書き込んでいません。",
        "en": "Nothing usable was found in {file}; nothing was written.",
    },
    "import.unreadable": {"ja": "{file} を読めません: {reason}", "en": "Cannot read {file}: {reason}"},
    "import.invalid": {
        "ja": "release.yml はまだ検証を通りません(上の報告を参照)。人が補ってから g7bot check で確認してください。",
        "en": "release.yml does not validate yet (see the report above): complete it by hand, then run g7bot check.",
    },
    # the App Home tab (bot/home)
    "home.title": {"ja": "あなたのG7フォローアップ", "en": "Your G7 follow-ups"},
    "home.as_of": {"ja": "{when} 時点", "en": "As of {when}"},
    "home.own": {
        "ja": "あなたに割り当てられたものと、あなたの窓口({desks})のものです。",
        "en": "Assigned to you, and those of your desks ({desks}).",
    },
    "home.own_assigned": {"ja": "あなたに割り当てられたものです。", "en": "Assigned to you."},
    "home.team": {
        "ja": "あなたが担当する窓口はまだ登録されていないため、チーム全体のフォローアップを表示しています。"
        "担当者は管理者が data/owners.yml に登録します(その後 `{command} admin reload`)。",
        "en": "No desk is assigned to you yet, so this shows the whole team's follow-ups. An admin assigns "
        "owners in data/owners.yml (then `{command} admin reload`).",
    },
    "home.upcoming": {"ja": "{days}日以内に期限({count}件)", "en": "Due within {days} days ({count})"},
    "home.recent": {"ja": "最近の完了(過去{days}日、{count}件)", "en": "Recently done (last {days} days, {count})"},
    "home.snoozed": {"ja": "{when}までスヌーズ中", "en": "snoozed until {when}"},
    "home.more": {
        "ja": "…ほか{count}件。すべて見るには `{command} followups`",
        "en": "… and {count} more: `{command} followups` lists them all",
    },
    # generic
    "list.separator": {"ja": "、", "en": ", "},
}


def msg(key: str, lang: Lang, /, **values: object) -> str:
    """The wording for `key` in `lang`, with `values` filled in."""
    template = MESSAGES[key][lang]
    return template.format(**values) if values else template


def join(items: list[str], lang: Lang) -> str:
    return msg("list.separator", lang).join(items)


def format_date(day: dt.date, lang: Lang) -> str:
    if lang == "ja":
        return f"{day.year}年{day.month}月{day.day}日({_WEEKDAYS_JA[day.weekday()]})"
    return f"{day.day} {day:%B} {day.year} ({day:%a})"


def format_range(start: dt.date, end: dt.date, lang: Lang) -> str:
    if start == end:
        return format_date(start, lang)
    if lang == "ja":
        tail = f"{end.day}日({_WEEKDAYS_JA[end.weekday()]})"
        if end.month != start.month:
            tail = f"{end.month}月" + tail
        return f"{format_date(start, lang)}〜{tail}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%B} {end.year}"
    return f"{format_date(start, lang)} – {format_date(end, lang)}"


def format_numbers(desk: Desk, lang: Lang) -> str:
    """A desk's numbers, one a line: 03-3501-1511 (内線 3051), then 直通 and FAX when published."""
    lines = []
    if desk.phone is not None:
        ext = desk.extension
        lines.append(f"{desk.phone} ({msg('contact.extension', lang)} {ext})" if ext else desk.phone)
    if desk.direct is not None:
        lines.append(f"{desk.direct} ({msg('contact.direct', lang)})")
    if desk.fax is not None:
        lines.append(f"{msg('contact.fax', lang)} {desk.fax}")
    return "\n".join(lines)

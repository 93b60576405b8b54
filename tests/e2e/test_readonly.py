"""A run of the whole suite leaves the deployment byte-identical."""

from tests.support.builder import tree_digest


def test_full_run_leaves_deployment_unchanged(bot, run_suite):
    before = tree_digest(bot.root)
    result = run_suite(bot.root, "health_tests", "recovery_tests")
    assert result.code in (0, 1, 2), result.stdout[-3000:]
    assert tree_digest(bot.root) == before


def test_failing_run_leaves_deployment_unchanged(bot, run_suite):
    bot.set_env(DISCORD_TOKEN="your_token_here", CHAT_HISTORY_MAX_MESSAGES="lots")
    before = tree_digest(bot.root)
    result = run_suite(bot.root, "-x")
    assert result.code == 2
    assert tree_digest(bot.root) == before

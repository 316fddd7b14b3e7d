"""Health scores: signals as of a date, the team's model file, scores and bands, the words for
what changed, the daily history and the backtest against what actually happened."""

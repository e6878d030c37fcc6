"""Recommendation algorithms. Each implements `ai.recs.base.Recommender` and is Django-free, so that
`ai_eval recs` evaluates on any interactions file exactly the classes the training kinds train and serve."""

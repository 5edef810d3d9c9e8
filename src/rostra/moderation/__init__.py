"""Moderation: policy and checks that turn a draft comment into a Decision."""

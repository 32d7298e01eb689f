"""ember.audio"""

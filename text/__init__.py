"""ember.text"""

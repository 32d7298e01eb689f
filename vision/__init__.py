"""ember.vision"""

"""Long-lived values replaced whole while serving: publish-after-validate, watched files, GC freezing."""

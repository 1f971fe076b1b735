"""What every part shares: the frame, the error hierarchy, process-wide tuning.

Nothing is imported here, so that any module can import one of these without pulling in
the rest (colour and params depend on the errors, the frame on colour).
"""

"""Training: corpus loading and splits, the fine-tuning loop, calibration, the baseline, the model card."""

"""Every test uses the smoke profile: offline stand-ins, CPU."""
import os

os.environ["COURSE_PROFILE"] = "smoke"
os.environ.pop("NBGRADER_EXECUTION", None)
os.environ.pop("COURSE_MAX_STEPS", None)  # the full profile's dry run sets it for its own kernels only

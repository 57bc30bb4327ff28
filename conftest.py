"""Every test uses the smoke profile: offline stand-ins, CPU."""
import os

os.environ["COURSE_PROFILE"] = "smoke"
os.environ.pop("NBGRADER_EXECUTION", None)

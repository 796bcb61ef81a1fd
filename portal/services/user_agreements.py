"""(being built) The HMIS User Agreement: prepared, signed by the new user, approved."""


def prepare(onboarding, *, at) -> None:
    raise NotImplementedError

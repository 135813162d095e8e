"""factory_boy factories for accounts. Passwords are set through Django so the policy validators'
history hook runs as in production."""

from __future__ import annotations

import factory

from kefu.accounts.models import Company, Department, Team, User

TEST_PASSWORD = "Kefu-Test-2026!"


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"co{n}")
    name = factory.Sequence(lambda n: f"第{n}燃气有限公司")
    short_name = factory.Sequence(lambda n: f"燃气{n}")
    area_code = "0538"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.Sequence(lambda n: f"部门{n}")
    kind = Department.Kind.SERVICE_CENTRE


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    company = factory.SelfAttribute("department.company")
    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"班组{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    username = factory.Sequence(lambda n: f"user{n}")
    employee_no = factory.Sequence(lambda n: f"E{n:05d}")
    full_name = factory.Sequence(lambda n: f"员工{n}")
    role = "agent"
    is_staff = factory.LazyAttribute(lambda o: o.role == "admin")  # as services.user_create does

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or TEST_PASSWORD)
        if create:
            self.save()

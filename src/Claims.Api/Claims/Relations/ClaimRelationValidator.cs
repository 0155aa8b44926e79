using Claims.Api.Validation;
using FluentValidation;

namespace Claims.Api.Claims.Relations;

public sealed class ClaimRelationRequestValidator : AbstractValidator<ClaimRelationRequest>
{
    public ClaimRelationRequestValidator()
    {
        RuleFor(r => r.Kind).RequiredEnum();
        RuleFor(r => r.RelatedClaimId).NotNull().NotEqual(Guid.Empty).WithMessage("Required: the id of an existing claim.");
    }
}

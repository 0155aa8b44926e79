using Claims.Api.Validation;
using FluentValidation;

namespace Claims.Api.Sources.Relations;

public sealed class SourceRelationRequestValidator : AbstractValidator<SourceRelationRequest>
{
    public SourceRelationRequestValidator()
    {
        RuleFor(r => r.Kind).RequiredEnum();
        RuleFor(r => r.RelatedSourceId).NotNull().NotEqual(Guid.Empty).WithMessage("Required: the id of an existing source.");
    }
}

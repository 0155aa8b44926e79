using Claims.Api.Validation;
using FluentValidation;

namespace Claims.Api.Evidence;

public sealed class EvidenceRequestValidator : AbstractValidator<EvidenceRequest>
{
    public EvidenceRequestValidator()
    {
        RuleFor(e => e.SourceId).NotNull().NotEqual(Guid.Empty).WithMessage("Required: the id of an existing source.");
        RuleFor(e => e.Stance).RequiredEnum();
        RuleFor(e => e.Quote).OptionalText(4000);
        RuleFor(e => e.Url).OptionalHttpUrl();
        RuleFor(e => e.PublishedAt).PastMoment();
        RuleFor(e => e.Note).OptionalText(2000);
        RuleFor(e => e.Credibility).InclusiveBetween(1, 6);
    }
}

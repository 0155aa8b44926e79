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
        RuleForEach(e => e.ViaSourceIds).NotEqual(Guid.Empty).WithMessage("Must be the id of an existing source.");
        RuleFor(e => e.ViaSourceIds)
            .Must(ids => ids!.Distinct().Count() == ids!.Count).When(e => e.ViaSourceIds is not null)
            .WithMessage("Each source may appear once in a chain.")
            .Must((e, ids) => !ids!.Contains(e.SourceId ?? Guid.Empty)).When(e => e.ViaSourceIds is not null)
            .WithMessage("The quoted source cannot relay itself: the chain holds the sources it relays.");
    }
}
